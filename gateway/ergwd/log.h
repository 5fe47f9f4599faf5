// ergwd's log: one line per event to stderr (journald adds the time under
// systemd; ergwd adds it itself otherwise). Never pass a secret to it.
//
// When stderr is journald's stream (systemd sets JOURNAL_STREAM to its device
// and inode), each line goes to the journal directly instead, with its
// priority and, for a line about one connection, the field CONNECTION=<name>:
// `journalctl -u ergwd CONNECTION=azure-hub` shows one tunnel's story.
#pragma once

#include <string_view>

namespace ergw::gateway {

enum class LogLevel { debug, info, warning, error };

void log_line(LogLevel level, std::string_view text);
// A line about one connection: "<connection>: <text>", and CONNECTION= in the journal.
void log_connection(LogLevel level, std::string_view connection, std::string_view text);
void set_log_level(LogLevel minimum);

}  // namespace ergw::gateway
