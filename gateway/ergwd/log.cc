#include "gateway/ergwd/log.h"

#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/time_format.h"

namespace ergw::gateway {
namespace {
LogLevel g_minimum = LogLevel::info;

// True when stderr is the stream systemd connected to journald
// (systemd.exec(5), JOURNAL_STREAM: "<device>:<inode>" of that stream).
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (stream == nullptr || fstat(STDERR_FILENO, &st) != 0) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  return device == st.st_dev && inode == st.st_ino;
}

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return LOG_DEBUG;
    case LogLevel::info: return LOG_INFO;
    case LogLevel::warning: return LOG_WARNING;
    case LogLevel::error: return LOG_ERR;
  }
  return LOG_INFO;
}

void write_line(LogLevel level, std::string_view connection, std::string_view text) {
  if (level < g_minimum) return;
  std::string message;
  if (!connection.empty()) message.append(connection).append(": ");
  message.append(text);
  static const bool journal = stderr_is_journal();
  if (journal) {
    const int sent =
        connection.empty()
            ? sd_journal_send("MESSAGE=%s", message.c_str(), "PRIORITY=%d", syslog_priority(level),
                              "SYSLOG_IDENTIFIER=ergwd", nullptr)
            : sd_journal_send("MESSAGE=%s", message.c_str(), "PRIORITY=%d", syslog_priority(level),
                              "SYSLOG_IDENTIFIER=ergwd", "CONNECTION=%.*s", static_cast<int>(connection.size()),
                              connection.data(), nullptr);
    if (sent == 0) return;  // else the stream below still reaches the journal
  }
  static const char* kNames[] = {"debug", "info", "warning", "error"};
  const std::string stamp = format_time(std::chrono::system_clock::now());
  std::fprintf(stderr, "%s ergwd %s: %s\n", stamp.c_str(), kNames[static_cast<int>(level)], message.c_str());
  std::fflush(stderr);
}

}  // namespace

void set_log_level(LogLevel minimum) { g_minimum = minimum; }

void log_line(LogLevel level, std::string_view text) { write_line(level, {}, text); }

void log_connection(LogLevel level, std::string_view connection, std::string_view text) {
  write_line(level, connection, text);
}

}  // namespace ergw::gateway
