// Whether this host's clock is kept in time, as the kernel knows it
// (adjtimex(2): an NTP daemon - chrony, systemd-timesyncd - clears
// STA_UNSYNC and bounds the error). IKEv2 carries no timestamps, so a skew
// against Azure's clock cannot be measured from here; it matters for
// certificates (not used with Azure's pre-shared keys) and for comparing logs
// with Azure's diagnostics. What can be checked is whether this clock is
// synchronised at all.
#pragma once

#include <string>

namespace ergw::diagnose {

struct ClockEvidence {
  bool read = false;          // adjtimex answered
  bool synchronised = false;  // STA_UNSYNC clear and not TIME_ERROR
  long max_error_us = 0;      // the kernel's bound on the error
  long estimated_error_us = 0;
  std::string error;
};

ClockEvidence read_clock_sync();

}  // namespace ergw::diagnose
