// The audit log: one JSON line per mutation of the appliance (and per refused
// authentication), saying who (the API key's name, root on the local socket,
// the configuration file, ergwd itself for a missed confirmation), from where,
// what (method and resource), which revision before and after, and the
// result. Request bodies are never written: no PSK can reach it.
//
// The file is opened O_APPEND (mode 0600) and each line synced before the
// call returns. Safe to call from any thread.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace ergw::api {

struct AuditEntry {
  std::string who;     // key name, "root (local socket)", "file", "ergwd"
  std::string source;  // client address, "local", "internal"
  std::string action;  // "PUT /v1/config", "confirm deadline passed", ...
  std::optional<int64_t> revision_before;
  std::optional<int64_t> revision_after;
  int status = 0;      // the HTTP status answered (0 for internal events)
  std::string result;  // applied, rejected, conflict, rolled back, ...
  std::string detail;  // a short reason; never a value from the request body
};

class AuditLog {
 public:
  // Empty path: entries go nowhere (tests that do not look at them).
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void write(const AuditEntry& entry);
  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
  std::mutex mutex_;
};

nlohmann::json audit_json(const AuditEntry& entry, int64_t unix_millis);

}  // namespace ergw::api
