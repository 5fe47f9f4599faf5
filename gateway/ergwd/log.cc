#include "gateway/ergwd/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "common/time_format.h"

namespace ergw::gateway {
namespace {
LogLevel g_minimum = LogLevel::info;
}

void set_log_level(LogLevel minimum) { g_minimum = minimum; }

void log_line(LogLevel level, std::string_view text) {
  if (level < g_minimum) return;
  static const char* kNames[] = {"debug", "info", "warning", "error"};
  const std::string stamp = format_time(std::chrono::system_clock::now());
  std::fprintf(stderr, "%s ergwd %s: %.*s\n", stamp.c_str(), kNames[static_cast<int>(level)],
               static_cast<int>(text.size()), text.data());
  std::fflush(stderr);
}

}  // namespace ergw::gateway
