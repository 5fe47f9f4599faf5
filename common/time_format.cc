#include "common/time_format.h"

#include <ctime>

namespace ergw {

std::string format_time(std::chrono::system_clock::time_point time, TimeFormat format) {
  if (time.time_since_epoch().count() == 0) return "";
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  if (format == TimeFormat::iso8601_utc) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  char buffer[32];
  const size_t n = format == TimeFormat::iso8601_utc ? std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm)
                                                     : std::strftime(buffer, sizeof(buffer), "%H:%M:%S", &tm);
  return std::string(buffer, n);
}

std::string format_millis(std::chrono::milliseconds duration) { return std::to_string(duration.count()) + " ms"; }

}  // namespace ergw
