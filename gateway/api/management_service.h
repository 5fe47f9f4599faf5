// ManagementService: the one writer of the appliance's configuration. Every
// change (API, configuration file, rollback, a missed confirmation) takes the
// same path: checked against the current revision (If-Match), validated
// whole by the rule book and the daemon, stored as a revision in one
// transaction, then applied; a change charon or BIRD refuses is undone. Reads
// do not come here: they use the store's reader connection and the
// SnapshotBoard, so they never wait for an apply.
//
// Commit-confirm: a write with a confirmation time makes its revision
// pending; unless confirm() arrives first, the deadline (kept in the store,
// so it survives a restart) returns the appliance to the revision before.
// Meanwhile other writes get 409.
//
// One writer at a time: while charon and BIRD take a revision, another write
// gets 409 at once rather than queueing behind it. What the tunnels do after
// an apply is followed for a while (up, failed with the reason, waiting for
// Azure to dial); the answer waits up to the request's `wait`, and is
// otherwise 202 with the revision's URL, where the outcome lands.
//
// Runs on the daemon's executor; every call answers through the callback.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "common/result.h"
#include "gateway/api/apply_tracking.h"
#include "gateway/api/audit_log.h"
#include "gateway/api/backend.h"
#include "gateway/api/config_candidate.h"
#include "gateway/api/config_file.h"
#include "gateway/api/snapshot_board.h"
#include "gateway/store/api_key_store.h"
#include "gateway/store/revision_store.h"

namespace ergw::api {

// Who asks: the audit log's "who" and a revision's author.
struct Actor {
  std::string name;    // API key name, "root (local socket)", "file", "ergwd"
  std::string source;  // client address, "local", "internal"
};

struct WriteOptions {
  Actor actor;
  std::string action;  // "PUT /v1/config", for the audit log
  std::optional<store::RevisionId> if_match;  // 0: "no revision yet"
  std::optional<int64_t> confirm_seconds;
  std::chrono::milliseconds wait{std::chrono::seconds(30)};
  std::string comment;
};

// An answer, independent of HTTP's machinery.
struct ServiceReply {
  int status = 200;
  nlohmann::json body;
  std::optional<store::RevisionId> etag;  // the revision active after the call
  std::string location;
  std::optional<int> retry_after_seconds;
};
using ReplyFn = std::function<void(ServiceReply)>;

struct ServiceOptions {
  std::string config_file;  // empty: no file workflow
  std::string key_dir;      // exported PSKs; default <config file's directory>/keys
  std::chrono::milliseconds track_limit{std::chrono::seconds(120)};  // longest an apply's tunnels are followed
  std::chrono::milliseconds track_interval{200};
  int64_t min_confirm_seconds = 5;
  int64_t max_confirm_seconds = 86'400;
};

class ManagementService {
 public:
  ManagementService(boost::asio::io_context& io, store::Database& db, store::RevisionStoreOptions store_options,
                    Backend& backend, SnapshotBoard& board, AuditLog& audit, ServiceOptions options);
  ~ManagementService();

  // At ergwd's start: a confirmation that expired while ergwd was stopped is
  // undone; a configuration file edited meanwhile becomes a revision (the
  // first one, on an empty store); the active revision is applied and
  // exported. An error means ergwd cannot start (the store is unusable, or
  // the first configuration is invalid: every diagnostic is logged).
  Status start();

  void put_config(const nlohmann::json& body, WriteOptions options, ReplyFn reply);
  void validate_config(const nlohmann::json& body, ReplyFn reply);
  void put_connection(const std::string& name, const nlohmann::json& body, WriteOptions options, ReplyFn reply);
  void delete_connection(const std::string& name, WriteOptions options, ReplyFn reply);
  void put_shared_key(const std::string& name, const nlohmann::json& body, WriteOptions options, ReplyFn reply);
  // {"value": "..."} sets the connection's BGP password, {"value": null}
  // removes it.
  void put_bgp_password(const std::string& name, const nlohmann::json& body, WriteOptions options, ReplyFn reply);
  void rollback(store::RevisionId target, WriteOptions options, ReplyFn reply);
  void confirm(WriteOptions options, ReplyFn reply);
  // SIGHUP: the configuration file, edited, becomes a revision. `done`
  // (optional) says whether it was taken, once it is applied or refused.
  void reload_file(std::function<void(bool accepted)> done = {});

  void create_api_key(const nlohmann::json& body, const Actor& actor, ReplyFn reply);
  void revoke_api_key(const std::string& name, const Actor& actor, ReplyFn reply);

  // True while charon and BIRD take a revision (tests, readiness).
  bool applying() const { return applying_; }

 private:
  using Build = std::function<std::optional<Candidate>(const store::SecretMap& carried, Diagnostics&)>;
  struct Proposal {
    Build build;
    store::Origin origin = store::Origin::api;
    // Diagnostics of a one-connection write are shown with the body's paths.
    std::optional<size_t> connection_index;
  };

  void propose(Proposal proposal, WriteOptions options, ReplyFn reply);
  void apply_revision(store::RevisionId id, std::optional<store::RevisionId> previous, Candidate candidate,
                      Diagnostics warnings, WriteOptions options, ReplyFn reply);
  void undo_failed_apply(store::RevisionId id, std::optional<store::RevisionId> previous, const ApplyResult& result,
                         const WriteOptions& options, ReplyFn reply);
  void apply_stored(std::optional<store::RevisionId> id, const std::string& why);
  void track(std::shared_ptr<ApplyTracking> tracking);
  void finish_tracking(ApplyTracking& tracking, const std::string& because);
  void arm_confirm_timer();
  void expire_pending();
  Status import_file_at_start();
  void export_active();
  void publish();
  void heartbeat();
  void reload_if_asked();
  void audit(const WriteOptions& options, int status, const std::string& result, std::optional<int64_t> before,
             std::optional<int64_t> after, const std::string& detail);
  Result<store::SecretMap> active_secrets(const store::Head& head);
  // PUT .../sharedkey and .../bgppassword: the secret `secret_name` of the
  // connection `name` replaced (nullopt in the body's value: removed, where
  // `removable`).
  void put_secret(const std::string& name, const std::string& secret_name, const char* what, bool removable,
                  const nlohmann::json& body, WriteOptions options, ReplyFn reply);
  std::optional<nlohmann::json> active_document(const store::Head& head);
  std::filesystem::path base_dir() const;

  boost::asio::io_context& io_;
  store::RevisionStore store_;
  store::ApiKeyStore keys_;
  Backend& backend_;
  SnapshotBoard& board_;
  AuditLog& audit_;
  ServiceOptions options_;
  bool applying_ = false;
  bool reload_when_idle_ = false;  // SIGHUP arrived during an apply
  std::vector<std::function<void(bool)>> reload_waiters_;  // their callers
  uint64_t applies_ = 0;
  uint64_t apply_failures_ = 0;
  boost::asio::steady_timer confirm_timer_;
  // Publishes the configuration's state every second: /healthz reads its
  // age to tell a stuck daemon loop from a live one.
  boost::asio::steady_timer heartbeat_timer_;
  std::shared_ptr<ApplyTracking> tracking_;  // the newest apply's, while followed
  std::optional<ConfigFile> file_;         // the file workflow, when --config is given
  std::shared_ptr<bool> alive_;
};

}  // namespace ergw::api
