// Configuration revisions as the store keeps them. A revision is the whole
// configuration document (ergw's configuration file format, without any
// secret) plus its connections' PSKs and BGP passwords, which live apart and
// never leave the
// store except to be applied.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/policy/secret.h"

namespace ergw::store {

using RevisionId = int64_t;

// Secret name -> its value. A connection's PSK is kept under the
// connection's name, its BGP password (TCP MD5) under
// bgp_password_secret(name): "<name>/bgpPassword", which no connection name
// can be ('/' is not allowed in one).
using SecretMap = std::map<std::string, policy::Secret>;

inline constexpr std::string_view kBgpPasswordSuffix = "/bgpPassword";
inline std::string bgp_password_secret(const std::string& connection) {
  return connection + std::string(kBgpPasswordSuffix);
}
// The connection whose BGP password `secret_name` names; nullopt for a PSK.
inline std::optional<std::string> bgp_password_connection(const std::string& secret_name) {
  if (secret_name.size() <= kBgpPasswordSuffix.size() || !secret_name.ends_with(kBgpPasswordSuffix)) {
    return std::nullopt;
  }
  return secret_name.substr(0, secret_name.size() - kBgpPasswordSuffix.size());
}

// Where a revision came from.
enum class Origin { api, file, rollback, confirm_expired };
std::string origin_name(Origin origin);

struct RevisionInfo {
  RevisionId id = 0;
  std::optional<RevisionId> parent;  // the revision active when it was made
  int64_t created_at = 0;            // unix seconds
  std::string author;                // the API key's name, "root (local socket)", "file"
  std::string comment;
  std::string origin;
  std::string content_hash;  // over the document and (keyed) the secrets
  std::string outcome;       // the apply result as JSON text; empty until known
  std::optional<int64_t> reverted_at;  // when a missed confirmation (or a failed apply) undid it
  std::string reverted_why;
};

struct Revision {
  RevisionInfo info;
  std::string document;  // canonical JSON text, no secrets
};

struct NewRevision {
  std::string document;  // canonical JSON text, no secrets
  SecretMap secrets;
  std::string author;
  std::string comment;
  Origin origin = Origin::api;
  // Hash of the configuration file this revision exports to: a file found
  // with one of these hashes is ergw's own export, not an operator's edit.
  std::string export_hash;
};

// What is running and what waits for a confirmation.
struct Head {
  std::optional<RevisionId> active;
  std::optional<RevisionId> pending;   // applied with ?confirm=, not yet confirmed
  std::optional<RevisionId> fallback;  // what a missed confirmation returns to
  std::optional<int64_t> confirm_deadline;  // unix seconds
};

}  // namespace ergw::store
