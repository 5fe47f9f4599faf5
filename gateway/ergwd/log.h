// ergwd's log: one line per event to stderr (journald adds the time under
// systemd; ergwd adds it itself otherwise). Never pass a secret to it.
#pragma once

#include <string_view>

namespace ergw::gateway {

enum class LogLevel { debug, info, warning, error };

void log_line(LogLevel level, std::string_view text);
void set_log_level(LogLevel minimum);

}  // namespace ergw::gateway
