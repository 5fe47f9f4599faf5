#include "gateway/ergwd/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ergw::gateway {
namespace {
LogLevel g_minimum = LogLevel::info;
}

void set_log_level(LogLevel minimum) { g_minimum = minimum; }

void log_line(LogLevel level, std::string_view text) {
  if (level < g_minimum) return;
  static const char* kNames[] = {"debug", "info", "warning", "error"};
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::fprintf(stderr, "%s ergwd %s: %.*s\n", stamp, kNames[static_cast<int>(level)], static_cast<int>(text.size()),
               text.data());
  std::fflush(stderr);
}

}  // namespace ergw::gateway
