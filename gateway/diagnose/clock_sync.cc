#include "gateway/diagnose/clock_sync.h"

#include <sys/timex.h>

#include <cerrno>
#include <cstring>

namespace ergw::diagnose {

ClockEvidence read_clock_sync() {
  ClockEvidence e;
  timex t{};
  t.modes = 0;  // read only
  const int state = ::adjtimex(&t);
  if (state < 0) {
    e.error = std::string("adjtimex: ") + std::strerror(errno);
    return e;
  }
  e.read = true;
  e.synchronised = state != TIME_ERROR && (t.status & STA_UNSYNC) == 0;
  e.max_error_us = t.maxerror;
  e.estimated_error_us = t.esterror;
  return e;
}

}  // namespace ergw::diagnose
