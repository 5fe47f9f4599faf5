#include "gateway/api/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace ergw::api {
namespace {

std::string iso_millis(int64_t unix_millis) {
  const std::time_t seconds = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  const size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof(buffer) - n, ".%03dZ", static_cast<int>(unix_millis % 1000));
  return buffer;
}

}  // namespace

nlohmann::json audit_json(const AuditEntry& e, int64_t unix_millis) {
  nlohmann::json j = {{"time", iso_millis(unix_millis)}, {"who", e.who},       {"source", e.source},
                      {"action", e.action},              {"result", e.result}};
  if (e.revision_before) j["revision_before"] = *e.revision_before;
  if (e.revision_after) j["revision_after"] = *e.revision_after;
  if (e.status != 0) j["status"] = e.status;
  if (!e.detail.empty()) j["detail"] = e.detail;
  return j;
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path) {
  if (path.empty()) return std::unique_ptr<AuditLog>(new AuditLog(path, -1));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error{"cannot open the audit log " + path + ": " + std::strerror(errno)};
  return std::unique_ptr<AuditLog>(new AuditLog(path, fd));
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::write(const AuditEntry& entry) {
  if (fd_ < 0) return;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  // Invalid UTF-8 (a client's odd key name) is replaced, never a reason to lose the line.
  const std::string line = audit_json(entry, now).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mutex_);
  // O_APPEND: one write() per line keeps lines whole under logrotate's copytruncate.
  (void)!::write(fd_, line.data(), line.size());
  ::fdatasync(fd_);
}

}  // namespace ergw::api
