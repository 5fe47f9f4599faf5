// The one way ergw writes a wall-clock time: logs, status reports, the lab's
// progress lines.
#pragma once

#include <chrono>
#include <string>

namespace ergw {

enum class TimeFormat {
  iso8601_utc,        // 2026-11-30T15:16:23Z (logs, status, anything a machine reads back)
  time_of_day_local,  // 15:16:23, local time (progress lines a person watches)
};

// "" for the epoch itself: a time that was never set.
std::string format_time(std::chrono::system_clock::time_point time,
                        TimeFormat format = TimeFormat::iso8601_utc);

// "250 ms": a timeout or a delay in an error message.
std::string format_millis(std::chrono::milliseconds duration);

}  // namespace ergw
