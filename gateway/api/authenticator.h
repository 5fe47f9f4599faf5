// Authenticator: who a request is, from its transport and its API key.
//   - the local unix socket: the peer's credentials; uid 0 is "root (local
//     socket)" with the admin scope, anyone else is refused;
//   - HTTPS: "Authorization: Bearer <key>"; the key's record (store reader
//     connection) gives its name and scope; a revoked key is refused.
// Failed attempts are counted per client address: after kMaxFailures within
// kFailureWindow the address is refused outright (429) for kBlockTime, and
// each failure is logged and audited (the presented key never is). The
// table is bounded; the oldest entries make room.
//
// API thread only.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "gateway/api/api_keys.h"
#include "gateway/api/audit_log.h"
#include "gateway/api/http_types.h"
#include "gateway/api/snapshot_board.h"
#include "gateway/store/sqlite.h"

namespace ergw::api {

struct Principal {
  std::string name;  // the key's name, or "root (local socket)"
  Scope scope = Scope::read;
  std::string source;  // client address (and certificate subject)
};

struct AuthOutcome {
  std::optional<Principal> principal;
  int status = 0;  // when refused: 401, 403 or 429
  std::string detail;
  int retry_after_seconds = 0;
};

class Authenticator {
 public:
  static constexpr int kMaxFailures = 5;
  static constexpr std::chrono::seconds kFailureWindow{60};
  static constexpr std::chrono::seconds kBlockTime{60};
  static constexpr size_t kMaxTracked = 4096;

  Authenticator(store::Database& reader, SnapshotBoard& board, AuditLog& audit);

  // `authorization` is the Authorization header's value (may be empty).
  AuthOutcome authenticate(const Peer& peer, std::string_view authorization, const std::string& action,
                           std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  struct Failures {
    int count = 0;
    std::chrono::steady_clock::time_point first;
    std::chrono::steady_clock::time_point blocked_until;
    std::chrono::steady_clock::time_point last;
  };
  AuthOutcome refuse(const Peer& peer, const std::string& action, int status, const std::string& detail,
                     std::chrono::steady_clock::time_point now);

  store::Database& reader_;
  SnapshotBoard& board_;
  AuditLog& audit_;
  std::map<std::string, Failures> failures_;
};

std::string peer_source(const Peer& peer);

}  // namespace ergw::api
