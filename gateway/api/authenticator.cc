#include "gateway/api/authenticator.h"

#include "gateway/ergwd/log.h"
#include "gateway/store/api_key_store.h"

namespace ergw::api {

using gateway::log_line;
using gateway::LogLevel;

std::string peer_source(const Peer& peer) {
  if (peer.transport == Peer::Transport::unix_socket) {
    return "local (uid " + (peer.uid ? std::to_string(*peer.uid) : std::string("?")) + ")";
  }
  return peer.client_certificate.empty() ? peer.address : peer.address + " (" + peer.client_certificate + ")";
}

Authenticator::Authenticator(store::Database& reader, SnapshotBoard& board, AuditLog& audit)
    : reader_(reader), board_(board), audit_(audit) {}

AuthOutcome Authenticator::refuse(const Peer& peer, const std::string& action, int status, const std::string& detail,
                                  std::chrono::steady_clock::time_point now) {
  board_.count_auth_failure();
  AuthOutcome out;
  out.status = status;
  out.detail = detail;
  if (peer.transport == Peer::Transport::unix_socket) {
    log_line(LogLevel::warning, "API: refused " + action + " from " + peer_source(peer) + ": " + detail);
    audit_.write({"-", peer_source(peer), action, std::nullopt, std::nullopt, status, "refused", detail});
    return out;
  }
  if (failures_.size() >= kMaxTracked && !failures_.count(peer.address)) {
    auto oldest = failures_.begin();
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (it->second.last < oldest->second.last) oldest = it;
    }
    failures_.erase(oldest);
  }
  auto& f = failures_[peer.address];
  if (f.count == 0 || now - f.first > kFailureWindow) {
    f.count = 0;
    f.first = now;
  }
  ++f.count;
  f.last = now;
  if (f.count <= kMaxFailures) {
    log_line(LogLevel::warning, "API: refused " + action + " from " + peer_source(peer) + ": " + detail);
    audit_.write({"-", peer_source(peer), action, std::nullopt, std::nullopt, status, "refused", detail});
  }
  if (f.count == kMaxFailures) {
    f.blocked_until = now + kBlockTime;
    log_line(LogLevel::warning, "API: " + std::to_string(kMaxFailures) + " refused attempts from " + peer.address +
                                    " within " + std::to_string(kFailureWindow.count()) + " s; refusing it for " +
                                    std::to_string(kBlockTime.count()) + " s");
    audit_.write({"-", peer_source(peer), "authentication", std::nullopt, std::nullopt, 429, "blocked",
                  "too many refused attempts"});
  }
  return out;
}

AuthOutcome Authenticator::authenticate(const Peer& peer, std::string_view authorization, const std::string& action,
                                        std::chrono::steady_clock::time_point now) {
  if (peer.transport == Peer::Transport::unix_socket) {
    if (peer.uid && *peer.uid == 0) return {Principal{"root (local socket)", Scope::admin, "local"}, 0, "", 0};
    return refuse(peer, action, 403, "the local socket is for root", now);
  }
  if (auto it = failures_.find(peer.address); it != failures_.end() && now < it->second.blocked_until) {
    AuthOutcome out;
    out.status = 429;
    out.detail = "too many refused attempts from " + peer.address + "; try again later";
    out.retry_after_seconds =
        static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(it->second.blocked_until - now).count()) + 1;
    return out;
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.empty()) return refuse(peer, action, 401, "no API key (Authorization: Bearer <key>)", now);
  if (authorization.size() <= kBearer.size() || authorization.substr(0, kBearer.size()) != kBearer) {
    return refuse(peer, action, 401, "the Authorization header is not \"Bearer <key>\"", now);
  }
  const std::string presented(authorization.substr(kBearer.size()));
  const auto id = key_id_of(presented);
  if (!id) return refuse(peer, action, 401, "not an ergw API key", now);
  store::ApiKeyStore keys(reader_);
  auto record = keys.find_by_key_id(*id);
  if (!record) {
    log_line(LogLevel::error, "API: the key store cannot be read: " + record.error());
    AuthOutcome out;
    out.status = 503;
    out.detail = "the key store cannot be read";
    return out;
  }
  if (!record.value() || !key_matches(presented, *record.value())) {
    return refuse(peer, action, 401, "unknown API key", now);
  }
  if (record.value()->revoked_at) {
    return refuse(peer, action, 401, "the API key \"" + record.value()->name + "\" is revoked", now);
  }
  failures_.erase(peer.address);
  const auto scope = parse_scope(record.value()->scope).value_or(Scope::read);
  return {Principal{record.value()->name, scope, peer_source(peer)}, 0, "", 0};
}

}  // namespace ergw::api
