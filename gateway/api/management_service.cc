#include "gateway/api/management_service.h"

#include <filesystem>
#include <utility>

#include <boost/asio/post.hpp>

#include "common/parse_json.h"
#include "gateway/api/api_keys.h"
#include "gateway/api/apply_tracking.h"
#include "gateway/api/connection_resource.h"
#include "gateway/api/problem.h"
#include "gateway/ergwd/log.h"

namespace ergw::api {

using gateway::log_line;
using gateway::LogLevel;

namespace {

ServiceReply problem_reply(int status, const std::string& kind, const std::string& title, const std::string& detail) {
  ServiceReply r;
  r.status = status;
  r.body = problem(status, kind, title, detail);
  return r;
}

std::string revision_text(std::optional<int64_t> id) { return id ? std::to_string(*id) : std::string("none"); }

// Diagnostics of a one-connection write, with the paths of the body it came
// in: connections[i].azure.properties.X -> properties.X, connections[i].local
// -> ergw.local. Findings about other connections keep the document's paths.
Diagnostics to_body_paths(const Diagnostics& in, size_t index) {
  const std::string prefix = "connections[" + std::to_string(index) + "]";
  Diagnostics out;
  for (auto d : in.all()) {
    if (d.path.rfind(prefix, 0) == 0) {
      std::string rest = d.path.substr(prefix.size());
      if (!rest.empty() && rest[0] == '.') rest.erase(0, 1);
      if (rest.rfind("azure.properties", 0) == 0) {
        d.path = "properties" + rest.substr(std::string("azure.properties").size());
      } else if (rest.rfind("azure", 0) == 0) {
        d.path = "properties" + rest.substr(std::string("azure").size());
      } else if (rest == "name" || rest.empty()) {
        d.path = rest.empty() ? "" : "name";
      } else {
        d.path = "ergw." + rest;
      }
    }
    if (d.severity == Severity::error) {
      out.error(d.path, d.message);
    } else if (d.severity == Severity::warning) {
      out.warning(d.path, d.message, d.fix);
    } else {
      out.note(d.path, d.message, d.fix);
    }
  }
  return out;
}

}  // namespace

ManagementService::ManagementService(boost::asio::io_context& io, store::Database& db,
                                     store::RevisionStoreOptions store_options, Backend& backend,
                                     SnapshotBoard& board, AuditLog& audit, ServiceOptions options)
    : io_(io),
      store_(db, store_options),
      keys_(db),
      backend_(backend),
      board_(board),
      audit_(audit),
      options_(std::move(options)),
      confirm_timer_(io),
      heartbeat_timer_(io),
      alive_(std::make_shared<bool>(true)) {
  if (!options_.config_file.empty()) file_.emplace(options_.config_file, options_.key_dir);
}

ManagementService::~ManagementService() {
  *alive_ = false;
  heartbeat_timer_.cancel();
  confirm_timer_.cancel();
  if (tracking_ && tracking_->timer) tracking_->timer->cancel();
}

std::filesystem::path ManagementService::base_dir() const {
  return file_ ? file_->base_dir() : std::filesystem::path("/nonexistent");
}

void ManagementService::publish() {
  metrics::ConfigObservation c;
  auto head = store_.head();
  if (head) {
    c.active_revision = head->active.value_or(0);
    c.pending_revision = head->pending;
    c.confirm_deadline = head->confirm_deadline;
  }
  c.applies = applies_;
  c.apply_failures = apply_failures_;
  c.applying = applying_;
  c.heartbeat = unix_now();
  board_.publish_config(c);
}

void ManagementService::audit(const WriteOptions& o, int status, const std::string& result,
                              std::optional<int64_t> before, std::optional<int64_t> after,
                              const std::string& detail) {
  AuditEntry e;
  e.who = o.actor.name;
  e.source = o.actor.source;
  e.action = o.action;
  e.revision_before = before;
  e.revision_after = after;
  e.status = status;
  e.result = result;
  e.detail = detail;
  audit_.write(e);
}

Result<store::SecretMap> ManagementService::active_secrets(const store::Head& head) {
  if (!head.active) return store::SecretMap{};
  return store_.secrets(*head.active);
}

std::optional<nlohmann::json> ManagementService::active_document(const store::Head& head) {
  if (!head.active) return nlohmann::json{{"connections", nlohmann::json::array()}};
  auto revision = store_.get(*head.active);
  if (!revision || !revision.value()) return std::nullopt;
  return parse_json(revision.value()->document);
}

// ---- the write path -------------------------------------------------------

void ManagementService::propose(Proposal proposal, WriteOptions o, ReplyFn reply) {
  auto head = store_.head();
  if (!head) {
    reply(problem_reply(500, "store", "the store cannot be read", head.error()));
    return;
  }
  const auto before = head->active;
  auto refuse = [&](ServiceReply r, const std::string& result, const std::string& detail) {
    r.etag = before;
    audit(o, r.status, result, before, before, detail);
    reply(std::move(r));
  };
  if (applying_) {
    auto r = problem_reply(409, "apply-in-progress", "another change is being applied",
                           "one writer at a time: retry when it is done (GET /v1/config/revisions shows it)");
    r.retry_after_seconds = 1;
    refuse(std::move(r), "conflict", "apply in progress");
    return;
  }
  if (head->pending) {
    auto r = problem_reply(409, "confirmation-pending", "a revision waits for its confirmation",
                           "revision " + std::to_string(*head->pending) + " rolls back at " +
                               iso_time(head->confirm_deadline.value_or(0)) +
                               " unless POST /v1/config/confirm arrives first; no other change until then");
    r.body["pending_revision"] = *head->pending;
    r.body["confirm_deadline"] = iso_time(head->confirm_deadline.value_or(0));
    refuse(std::move(r), "conflict", "confirmation pending");
    return;
  }
  if (!o.if_match || *o.if_match != before.value_or(0)) {
    auto r = problem_reply(412, "precondition-failed", "the configuration changed meanwhile",
                           "If-Match names revision " + (o.if_match ? std::to_string(*o.if_match) : "-") +
                               ", the active revision is " + revision_text(before) +
                               ": read it again (GET /v1/config), then retry with its ETag");
    r.body["active_revision"] = before.value_or(0);
    refuse(std::move(r), "precondition failed", "stale If-Match");
    return;
  }
  if (o.confirm_seconds &&
      (*o.confirm_seconds < options_.min_confirm_seconds || *o.confirm_seconds > options_.max_confirm_seconds)) {
    refuse(problem_reply(400, "bad-request", "confirm is out of range",
                         "confirm=" + std::to_string(*o.confirm_seconds) + "; allowed: " +
                             std::to_string(options_.min_confirm_seconds) + ".." +
                             std::to_string(options_.max_confirm_seconds) + " seconds"),
           "rejected", "confirm out of range");
    return;
  }
  auto carried = active_secrets(head.value());
  if (!carried) {
    reply(problem_reply(500, "store", "the store cannot be read", carried.error()));
    return;
  }
  Diagnostics diagnostics;
  auto candidate = proposal.build(carried.value(), diagnostics);
  if (candidate) backend_.check(candidate->config, diagnostics);
  if (proposal.connection_index) diagnostics = to_body_paths(diagnostics, *proposal.connection_index);
  if (!candidate || diagnostics.has_errors()) {
    ServiceReply r = problem_reply(422, "invalid-configuration", "the configuration is not valid",
                                   std::to_string(diagnostics.error_count()) +
                                       " error(s); nothing was changed");
    r.body["diagnostics"] = diagnostics_json(diagnostics);
    refuse(std::move(r), "rejected", std::to_string(diagnostics.error_count()) + " error(s)");
    return;
  }
  // Warnings go to the log as well as into the reply: a file edited and
  // SIGHUPed has no one reading the reply.
  for (const auto& d : diagnostics.all()) {
    if (d.severity == Severity::warning) log_line(LogLevel::warning, format_diagnostic(d));
  }
  const std::string document = candidate->document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto hash = store_.content_hash(document, candidate->secrets);
  if (!hash) {
    reply(problem_reply(500, "store", "the store cannot be written", hash.error()));
    return;
  }
  if (before && !o.confirm_seconds) {
    auto active = store_.get(*before);
    if (active && active.value() && active.value()->info.content_hash == hash.value()) {
      ServiceReply r;
      r.status = 200;
      r.etag = before;
      r.body = {{"result", "unchanged"}, {"revision", *before}, {"warnings", warnings_json(diagnostics)}};
      audit(o, 200, "unchanged", before, before, "");
      reply(std::move(r));
      return;
    }
  }
  store::NewRevision revision;
  revision.document = document;
  revision.secrets = candidate->secrets;
  revision.author = o.actor.name;
  revision.comment = o.comment;
  revision.origin = proposal.origin;
  if (file_) revision.export_hash = file_->export_hash(candidate->document, candidate->secrets);
  std::optional<int64_t> deadline;
  if (o.confirm_seconds) deadline = unix_deadline_in(*o.confirm_seconds);
  auto id = store_.commit(revision, deadline);
  if (!id) {
    reply(problem_reply(500, "store", "the revision could not be stored", id.error()));
    return;
  }
  log_line(LogLevel::info, "revision " + std::to_string(id.value()) + " by " + o.actor.name + " (" + o.action +
                               (deadline ? ", confirm by " + iso_time(*deadline) : std::string()) + ")");
  // The file follows the store at once: an edit made from now on is made to this revision.
  export_active();
  apply_revision(id.value(), before, std::move(*candidate), std::move(diagnostics), std::move(o), std::move(reply));
}

void ManagementService::apply_revision(store::RevisionId id, std::optional<store::RevisionId> previous,
                                       Candidate candidate, Diagnostics warnings, WriteOptions o,
                                       ReplyFn reply) {
  applying_ = true;
  publish();
  const int64_t started_at = unix_now();
  auto alive = alive_;
  backend_.apply(candidate.config, [this, alive, id, previous, started_at, warnings = std::move(warnings),
                                    o = std::move(o), reply = std::move(reply)](ApplyResult result) mutable {
    if (!*alive) return;
    applying_ = false;
    ++applies_;
    reload_if_asked();
    bool refused = !result.accepted;
    for (const auto& c : result.connections) refused = refused || !c.error.empty();
    if (refused) {
      undo_failed_apply(id, previous, result, o, std::move(reply));
      return;
    }
    auto head = store_.head();
    auto tracking = std::make_shared<ApplyTracking>(id, previous, started_at, result);
    tracking->give_up = std::chrono::steady_clock::now() + options_.track_limit;
    tracking->warnings = warnings_json(warnings);
    if (head && head->pending == id) tracking->confirm_deadline = head->confirm_deadline;
    tracking->waiters.push_back({std::move(reply), std::chrono::steady_clock::now() + o.wait});
    audit(o, 200, "applied", previous, id, tracking->confirm_deadline ? "confirm by " + iso_time(*tracking->confirm_deadline) : "");
    if (tracking_ && !tracking_->done) finish_tracking(*tracking_, "superseded by revision " + std::to_string(id));
    tracking_ = tracking;
    // The outcome so far is visible at once (GET /v1/config/revisions/{id}), then updated when final.
    (void)store_.set_outcome(id, tracking->outcome().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (tracking->confirm_deadline) arm_confirm_timer();
    board_.publish_not_ready({});
    publish();
    track(tracking);
  });
}

void ManagementService::undo_failed_apply(store::RevisionId id, std::optional<store::RevisionId> previous,
                                          const ApplyResult& result, const WriteOptions& o, ReplyFn reply) {
  ++apply_failures_;
  std::string why = result.error;
  nlohmann::json connections = nlohmann::json::array();
  for (const auto& c : result.connections) {
    if (c.error.empty()) continue;
    if (why.empty()) why = c.name + ": " + c.error;
    connections.push_back({{"name", c.name}, {"change", c.change}, {"state", "failed"}, {"reason", c.error}});
  }
  log_line(LogLevel::error, "revision " + std::to_string(id) + " was refused (" + why + "); restoring revision " +
                                revision_text(previous));
  if (auto s = store_.revert_to(id, previous.value_or(0), "apply failed: " + why, unix_now()); !s) {
    log_line(LogLevel::error, "the store could not restore the previous revision: " + s.error());
  }
  nlohmann::json outcome = {{"state", "done"}, {"finished_because", "refused"}, {"connections", connections}};
  (void)store_.set_outcome(id, outcome.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  apply_stored(previous, "restoring revision " + revision_text(previous) + " after a refused apply");
  export_active();
  publish();
  ServiceReply r = problem_reply(502, "apply-failed", "charon or BIRD refused the configuration",
                                 why + "; revision " + revision_text(previous) + " was restored");
  r.body["revision"] = id;
  r.body["restored_revision"] = previous ? nlohmann::json(*previous) : nlohmann::json(nullptr);
  r.body["connections"] = connections;
  r.etag = previous.value_or(0);
  audit(o, 502, "apply failed; restored", previous, previous, why);
  reply(std::move(r));
}

// Applies a stored revision (or nothing, for none) without a new revision:
// start, rollback of a missed confirmation, undo of a refused apply.
void ManagementService::apply_stored(std::optional<store::RevisionId> id, const std::string& why) {
  Candidate candidate;
  if (id) {
    auto revision = store_.get(*id);
    auto secrets = store_.secrets(*id);
    std::optional<nlohmann::json> document;
    if (revision && revision.value()) document = parse_json(revision.value()->document);
    if (!document || !secrets) {
      log_line(LogLevel::error, why + ": revision " + std::to_string(*id) + " cannot be read from the store");
      return;
    }
    Diagnostics diagnostics;
    auto c = candidate_from_revision(*document, std::move(secrets.value()), diagnostics);
    if (!c) {
      log_line(LogLevel::error, why + ": revision " + std::to_string(*id) + " no longer passes validation:\n" +
                                    diagnostics.format());
      board_.publish_not_ready({"revision " + std::to_string(*id) + " does not pass validation"});
      return;
    }
    candidate = std::move(*c);
  }
  applying_ = true;
  publish();
  auto alive = alive_;
  backend_.apply(candidate.config, [this, alive, id, why](ApplyResult result) {
    if (!*alive) return;
    applying_ = false;
    ++applies_;
    reload_if_asked();
    std::string problems = result.error;
    for (const auto& c : result.connections) {
      if (!c.error.empty()) problems += (problems.empty() ? "" : "; ") + c.name + ": " + c.error;
    }
    if (problems.empty()) {
      log_line(LogLevel::info, why + ": revision " + revision_text(id) + " applied" +
                                   (result.note.empty() ? "" : " (" + result.note + ")"));
    } else {
      ++apply_failures_;
      log_line(LogLevel::error, why + ": revision " + revision_text(id) + ": " + problems);
    }
    publish();
  });
}

void ManagementService::track(std::shared_ptr<ApplyTracking> tracking) {
  if (tracking->done) return;
  tracking->observe(*board_.observation());
  const auto now = std::chrono::steady_clock::now();
  if (tracking->settled()) return finish_tracking(*tracking, "settled");
  if (now >= tracking->give_up) return finish_tracking(*tracking, "time limit");
  // Waiters whose patience ran out get 202 and the revision's URL.
  for (auto it = tracking->waiters.begin(); it != tracking->waiters.end();) {
    if (now < it->until) {
      ++it;
      continue;
    }
    ServiceReply r;
    r.status = 202;
    r.etag = tracking->revision;
    r.body = tracking->body();
    r.location = "/v1/config/revisions/" + std::to_string(tracking->revision);
    it->reply(std::move(r));
    it = tracking->waiters.erase(it);
  }
  if (!tracking->timer) tracking->timer = std::make_unique<boost::asio::steady_timer>(io_);
  tracking->timer->expires_after(options_.track_interval);
  auto alive = alive_;
  tracking->timer->async_wait([this, alive, tracking](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    track(tracking);
  });
}

void ManagementService::finish_tracking(ApplyTracking& tracking, const std::string& because) {
  tracking.finish(because, unix_now());
  (void)store_.set_outcome(tracking.revision,
                           tracking.outcome().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  for (auto& waiter : tracking.waiters) {
    ServiceReply r;
    r.status = 200;
    r.etag = tracking.revision;
    r.body = tracking.body();
    waiter.reply(std::move(r));
  }
  tracking.waiters.clear();
}

// ---- commit-confirm ----------------------------------------------------------

void ManagementService::arm_confirm_timer() {
  auto head = store_.head();
  if (!head || !head->pending || !head->confirm_deadline) return;
  const auto remaining = std::chrono::seconds(std::max<int64_t>(0, *head->confirm_deadline - unix_now()));
  confirm_timer_.expires_after(remaining);
  auto alive = alive_;
  confirm_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    expire_pending();
  });
}

void ManagementService::expire_pending() {
  auto head = store_.head();
  if (!head || !head->pending) return;
  if (unix_now() < head->confirm_deadline.value_or(0)) {
    arm_confirm_timer();  // woken early (clock stepped): wait for the rest
    return;
  }
  if (applying_) {
    // The pending revision's own apply is still running: roll back right after.
    confirm_timer_.expires_after(std::chrono::milliseconds(200));
    auto alive = alive_;
    confirm_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
      if (ec || !*alive) return;
      expire_pending();
    });
    return;
  }
  const auto pending = *head->pending;
  const std::string why = "the confirmation did not arrive by " + iso_time(head->confirm_deadline.value_or(0));
  auto back = store_.revert_pending(why, unix_now());
  if (!back) {
    log_line(LogLevel::error, "rolling back revision " + std::to_string(pending) + " failed: " + back.error());
    return;
  }
  const std::optional<store::RevisionId> target =
      back.value() != 0 ? std::optional<store::RevisionId>(back.value()) : std::nullopt;
  log_line(LogLevel::warning, "revision " + std::to_string(pending) + ": " + why + "; rolling back to revision " +
                                  revision_text(target));
  WriteOptions o;
  o.actor = {"ergwd", "internal"};
  o.action = "confirm deadline passed";
  audit(o, 0, "rolled back", pending, target, why);
  if (tracking_ && !tracking_->done) finish_tracking(*tracking_, "rolled back");
  apply_stored(target, "rolling back an unconfirmed revision");
  export_active();
  publish();
}

void ManagementService::confirm(WriteOptions o, ReplyFn reply) {
  auto head = store_.head();
  if (!head) {
    reply(problem_reply(500, "store", "the store cannot be read", head.error()));
    return;
  }
  if (!head->pending) {
    auto r = problem_reply(409, "nothing-to-confirm", "no revision waits for a confirmation",
                           "the active revision is " + revision_text(head->active) +
                               "; a confirmation that came too late finds it rolled back already");
    r.etag = head->active;
    audit(o, 409, "conflict", head->active, head->active, "nothing to confirm");
    reply(std::move(r));
    return;
  }
  if (!o.if_match || *o.if_match != *head->pending) {
    auto r = problem_reply(412, "precondition-failed", "If-Match does not name the pending revision",
                           "the pending revision is " + std::to_string(*head->pending));
    r.etag = head->active;
    audit(o, 412, "precondition failed", head->active, head->active, "stale If-Match");
    reply(std::move(r));
    return;
  }
  if (auto s = store_.confirm(); !s) {
    reply(problem_reply(500, "store", "the confirmation could not be stored", s.error()));
    return;
  }
  confirm_timer_.cancel();
  log_line(LogLevel::info, "revision " + std::to_string(*head->pending) + " confirmed by " + o.actor.name);
  audit(o, 200, "confirmed", head->pending, head->pending, "");
  publish();
  ServiceReply r;
  r.status = 200;
  r.etag = head->pending;
  r.body = {{"result", "confirmed"}, {"revision", *head->pending}};
  reply(std::move(r));
}

// ---- the operations -----------------------------------------------------------

void ManagementService::put_config(const nlohmann::json& body, WriteOptions o, ReplyFn reply) {
  Proposal p;
  p.build = [this, body](const store::SecretMap& carried, Diagnostics& d) {
    return prepare_candidate(body, SecretSources::inline_only, base_dir(), carried, d);
  };
  propose(std::move(p), std::move(o), std::move(reply));
}

void ManagementService::validate_config(const nlohmann::json& body, ReplyFn reply) {
  auto head = store_.head();
  store::SecretMap carried;
  if (head) {
    if (auto s = active_secrets(head.value())) carried = std::move(s.value());
  }
  Diagnostics diagnostics;
  auto candidate = prepare_candidate(body, SecretSources::inline_only, base_dir(), carried, diagnostics);
  if (candidate) backend_.check(candidate->config, diagnostics);
  ServiceReply r;
  if (!candidate || diagnostics.has_errors()) {
    r = problem_reply(422, "invalid-configuration", "the configuration is not valid",
                      std::to_string(diagnostics.error_count()) + " error(s), " +
                          std::to_string(diagnostics.warning_count()) + " warning(s)");
    r.body["valid"] = false;
  } else {
    r.status = 200;
    r.body = {{"valid", true}, {"connections", candidate->config.connections.size()}};
  }
  r.body["diagnostics"] = diagnostics_json(diagnostics);
  reply(std::move(r));
}

void ManagementService::put_connection(const std::string& name, const nlohmann::json& body, WriteOptions o,
                                       ReplyFn reply) {
  auto head = store_.head();
  auto document = head ? active_document(head.value()) : std::nullopt;
  if (!document) {
    reply(problem_reply(500, "store", "the active revision cannot be read", ""));
    return;
  }
  if (!document->contains("connections") || !(*document)["connections"].is_array()) {
    (*document)["connections"] = nlohmann::json::array();
  }
  auto index = find_connection(*document, name);
  Proposal p;
  p.connection_index = index.value_or((*document)["connections"].size());
  p.build = [this, body, name, document = *document](const store::SecretMap& carried,
                                                     Diagnostics& d) -> std::optional<Candidate> {
    auto entry = connection_entry(body, name, d);
    if (!entry) return std::nullopt;
    auto next = document;
    auto at = find_connection(next, name);
    if (at) {
      next["connections"][*at] = std::move(*entry);
    } else {
      next["connections"].push_back(std::move(*entry));
    }
    return prepare_candidate(next, SecretSources::inline_only, base_dir(), carried, d);
  };
  propose(std::move(p), std::move(o), std::move(reply));
}

void ManagementService::delete_connection(const std::string& name, WriteOptions o, ReplyFn reply) {
  auto head = store_.head();
  auto document = head ? active_document(head.value()) : std::nullopt;
  if (!document || !find_connection(*document, name)) {
    auto r = problem_reply(404, "not-found", "no such connection", "\"" + name + "\" is not configured");
    if (head) r.etag = head->active;
    audit(o, 404, "not found", head ? head->active : std::nullopt, head ? head->active : std::nullopt, "");
    reply(std::move(r));
    return;
  }
  Proposal p;
  p.build = [this, name, document = *document](const store::SecretMap& carried, Diagnostics& d) {
    auto next = document;
    next["connections"].erase(*find_connection(next, name));
    store::SecretMap rest = carried;
    rest.erase(name);
    rest.erase(store::bgp_password_secret(name));
    return prepare_candidate(next, SecretSources::inline_only, base_dir(), rest, d);
  };
  propose(std::move(p), std::move(o), std::move(reply));
}

void ManagementService::put_shared_key(const std::string& name, const nlohmann::json& body, WriteOptions o,
                                       ReplyFn reply) {
  put_secret(name, name, "PSK", /*removable=*/false, body, std::move(o), std::move(reply));
}

void ManagementService::put_bgp_password(const std::string& name, const nlohmann::json& body, WriteOptions o,
                                         ReplyFn reply) {
  put_secret(name, store::bgp_password_secret(name), "BGP password", /*removable=*/true, body, std::move(o),
             std::move(reply));
}

void ManagementService::put_secret(const std::string& name, const std::string& secret_name, const char* what,
                                   bool removable, const nlohmann::json& body, WriteOptions o, ReplyFn reply) {
  auto head = store_.head();
  auto document = head ? active_document(head.value()) : std::nullopt;
  if (!document || !find_connection(*document, name)) {
    auto r = problem_reply(404, "not-found", "no such connection", "\"" + name + "\" is not configured");
    audit(o, 404, "not found", head ? head->active : std::nullopt, head ? head->active : std::nullopt, "");
    reply(std::move(r));
    return;
  }
  Diagnostics d;
  std::optional<policy::Secret> secret;
  bool remove = false;
  const std::string shape = std::string("{\"value\": \"<the connection's ") + what + ">\"}" +
                            (removable ? ", or {\"value\": null} to remove it" : "");
  if (!body.is_object() || !body.contains("value")) {
    d.error("value", "missing; the body is " + shape);
  } else if (removable && body["value"].is_null()) {
    remove = true;
  } else if (!body["value"].is_string()) {
    d.error("value", std::string("must be a string") + (removable ? " or null" : ""));
  } else {
    secret = policy::Secret(body["value"].get<std::string>());
  }
  for (auto it = body.begin(); body.is_object() && it != body.end(); ++it) {
    if (it.key() != "value") d.warning(it.key(), "unknown field; ignored", "the body is " + shape);
  }
  if (!secret && !remove) {
    auto r = problem_reply(422, "invalid-configuration", std::string("the ") + what + " is not valid",
                           "nothing was changed");
    r.body["diagnostics"] = diagnostics_json(d);
    audit(o, 422, "rejected", head->active, head->active, "bad body");
    reply(std::move(r));
    return;
  }
  Proposal p;
  p.connection_index = find_connection(*document, name);
  p.build = [this, secret_name, secret, document = *document](const store::SecretMap& carried,
                                                              Diagnostics& diagnostics) {
    store::SecretMap next = carried;
    if (secret) {
      next.insert_or_assign(secret_name, *secret);
    } else {
      next.erase(secret_name);
    }
    return prepare_candidate(document, SecretSources::inline_only, base_dir(), next, diagnostics);
  };
  propose(std::move(p), std::move(o), std::move(reply));
}

void ManagementService::rollback(store::RevisionId target, WriteOptions o, ReplyFn reply) {
  auto revision = store_.get(target);
  if (!revision || !revision.value()) {
    auto head = store_.head();
    auto r = problem_reply(404, "not-found", "no such revision",
                           "revision " + std::to_string(target) + " is not in the store (pruned, or never made)");
    audit(o, 404, "not found", head ? head->active : std::nullopt, head ? head->active : std::nullopt, "");
    reply(std::move(r));
    return;
  }
  auto document = parse_json(revision.value()->document);
  if (o.comment.empty()) o.comment = "rollback to revision " + std::to_string(target);
  Proposal p;
  p.origin = store::Origin::rollback;
  p.build = [this, target, document](const store::SecretMap&, Diagnostics& d) -> std::optional<Candidate> {
    auto secrets = store_.secrets(target);
    if (!document || !secrets) {
      d.error("", "revision " + std::to_string(target) + " cannot be read from the store");
      return std::nullopt;
    }
    return candidate_from_revision(*document, std::move(secrets.value()), d);
  };
  propose(std::move(p), std::move(o), std::move(reply));
}

void ManagementService::create_api_key(const nlohmann::json& body, const Actor& actor, ReplyFn reply) {
  WriteOptions o;
  o.actor = actor;
  o.action = "POST /v1/apikeys";
  Diagnostics d;
  std::string name;
  std::optional<Scope> scope;
  if (!body.is_object()) {
    d.error("", "the body is {\"name\": \"...\", \"scope\": \"read\"|\"admin\"}");
  } else {
    if (!body.contains("name") || !body["name"].is_string() || !is_valid_key_name(body["name"].get<std::string>())) {
      d.error("name", "missing or not a name; allowed: 1-63 letters, digits, '_', '.', '-', '@'");
    } else {
      name = body["name"].get<std::string>();
    }
    if (!body.contains("scope") || !body["scope"].is_string() ||
        !(scope = parse_scope(body["scope"].get<std::string>()))) {
      d.error("scope", "missing or not a scope; allowed: read, admin");
    }
  }
  if (d.has_errors()) {
    auto r = problem_reply(422, "invalid-request", "the API key request is not valid", "");
    r.body["diagnostics"] = diagnostics_json(d);
    audit(o, 422, "rejected", std::nullopt, std::nullopt, "bad body");
    reply(std::move(r));
    return;
  }
  auto key = generate_api_key(name, *scope, actor.name, unix_now());
  if (!key) {
    reply(problem_reply(500, "internal", "no key could be made", key.error()));
    return;
  }
  if (auto s = keys_.add(key->record); !s) {
    auto r = problem_reply(409, "name-taken", "the name is taken", s.error());
    audit(o, 409, "conflict", std::nullopt, std::nullopt, "name taken: " + name);
    reply(std::move(r));
    return;
  }
  audit(o, 201, "created", std::nullopt, std::nullopt, "key " + name + " (" + scope_name(*scope) + ")");
  log_line(LogLevel::info, "API key \"" + name + "\" (" + scope_name(*scope) + ") created by " + actor.name);
  ServiceReply r;
  r.status = 201;
  r.location = "/v1/apikeys/" + name;
  r.body = {{"name", name},
            {"scope", scope_name(*scope)},
            {"created", iso_time(key->record.created_at)},
            {"created_by", actor.name},
            {"key", key->key},
            {"note", "the key is shown this once; ergwd keeps only a salted hash of it"}};
  reply(std::move(r));
}

void ManagementService::revoke_api_key(const std::string& name, const Actor& actor, ReplyFn reply) {
  WriteOptions o;
  o.actor = actor;
  o.action = "DELETE /v1/apikeys/" + name;
  auto revoked = keys_.revoke(name, unix_now());
  if (!revoked) {
    reply(problem_reply(500, "store", "the key could not be revoked", revoked.error()));
    return;
  }
  if (!revoked.value()) {
    audit(o, 404, "not found", std::nullopt, std::nullopt, "");
    reply(problem_reply(404, "not-found", "no such active API key", "\"" + name + "\""));
    return;
  }
  audit(o, 204, "revoked", std::nullopt, std::nullopt, "key " + name);
  log_line(LogLevel::info, "API key \"" + name + "\" revoked by " + actor.name);
  ServiceReply r;
  r.status = 204;
  reply(std::move(r));
}

// ---- the file workflow and the start ------------------------------------------

void ManagementService::reload_file(std::function<void(bool accepted)> done) {
  if (!done) done = [](bool) {};
  if (!file_) {
    log_line(LogLevel::warning, "SIGHUP: no configuration file to read (ergwd runs from its store only)");
    done(false);
    return;
  }
  if (applying_) {
    // Not lost behind the running apply: the file is read as soon as it is done.
    log_line(LogLevel::info, "SIGHUP: an apply is running; reading " + file_->path().string() + " when it is done");
    reload_when_idle_ = true;
    reload_waiters_.push_back(std::move(done));
    return;
  }
  const std::string file = file_->path().string();
  auto text = file_->read_text();
  ergw::JsonSyntaxError error;
  auto parsed = text ? parse_json(text.value(), &error) : std::nullopt;
  WriteOptions o;
  o.actor = {"file", "local"};
  o.action = "SIGHUP " + file;
  o.wait = std::chrono::milliseconds(0);
  if (!parsed) {
    log_line(LogLevel::error, file + ": " +
                                  (text ? "not valid JSON (" + error.what + " at byte " + std::to_string(error.byte) + ")"
                                        : std::string("cannot be read")) +
                                  "; the running configuration stays as it was");
    audit(o, 0, "rejected", std::nullopt, std::nullopt, "not valid JSON");
    done(false);
    return;
  }
  auto head = store_.head();
  if (head) o.if_match = head->active.value_or(0);
  Proposal p;
  p.origin = store::Origin::file;
  p.build = [this, document = *parsed](const store::SecretMap&, Diagnostics& d) {
    // The file carries its keys (sharedKeyFile or sharedKey): nothing is carried over.
    return prepare_candidate(document, SecretSources::inline_and_files, base_dir(), {}, d);
  };
  propose(std::move(p), std::move(o), [file, done = std::move(done)](ServiceReply r) {
    done(r.status < 300);
    if (r.status >= 300) {
      std::string detail = r.body.value("detail", "");
      if (r.body.contains("diagnostics")) {
        for (const auto& d : r.body["diagnostics"]) {
          detail += "\n" + d.value("severity", "") + ": " + d.value("path", "") + ": " + d.value("message", "");
        }
      }
      log_line(LogLevel::error, file + ": " + r.body.value("title", "refused") + ": " + detail +
                                    (r.status == 422 ? "\nthe running configuration stays as it was" : ""));
    } else if (r.body.value("result", "") == "unchanged") {
      log_line(LogLevel::info, file + ": unchanged");
    }
  });
}

Status ManagementService::import_file_at_start() {
  if (!file_) return Status::success();
  const std::string file = file_->path().string();
  auto head = store_.head();
  if (!head) return Error{head.error()};
  if (!std::filesystem::exists(file_->path())) {
    if (!head->active) log_line(LogLevel::warning, file + " does not exist; starting with no configuration");
    return Status::success();
  }
  auto read = file_->read_text();
  if (!read) return Error{read.error()};
  const std::string& text = read.value();
  ergw::JsonSyntaxError error;
  auto parsed = parse_json(text, &error);
  Diagnostics diagnostics;
  std::optional<Candidate> candidate;
  if (!parsed) {
    diagnostics.error(file, "not valid JSON (" + error.what + " at byte " + std::to_string(error.byte) + ")");
  } else {
    candidate = prepare_candidate(*parsed, SecretSources::inline_and_files, base_dir(), {}, diagnostics);
    if (candidate) backend_.check(candidate->config, diagnostics);
  }
  for (const auto& d : diagnostics.all()) {
    if (d.severity == Severity::note) continue;
    log_line(d.severity == Severity::error ? LogLevel::error : LogLevel::warning, format_diagnostic(d));
  }
  if (!candidate || diagnostics.has_errors()) {
    if (!head->active) {
      return Error{file + ": " + std::to_string(diagnostics.error_count()) + " error(s); not starting"};
    }
    log_line(LogLevel::error, file + " has errors; the store's revision " +
                                  std::to_string(*head->active) + " stays active");
    return Status::success();
  }
  const std::string document = candidate->document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto hash = store_.content_hash(document, candidate->secrets);
  if (!hash) return Error{hash.error()};
  if (head->active) {
    auto active = store_.get(*head->active);
    if (active && active.value() && active.value()->info.content_hash == hash.value()) return Status::success();
    auto exported = store_.revision_with_export(sha256_hex(text));
    if (exported && exported.value() && *exported.value() != *head->active) {
      // ergwd stopped between storing a revision and exporting it: the store wins.
      log_line(LogLevel::info, file + " is the export of revision " +
                                   std::to_string(*exported.value()) + "; the store's revision " +
                                   std::to_string(*head->active) + " is newer and stays active");
      return Status::success();
    }
    if (head->pending) {
      log_line(LogLevel::warning, file + " was edited, but revision " + std::to_string(*head->pending) +
                                      " waits for its confirmation; the edit is not applied (send SIGHUP after)");
      return Status::success();
    }
  }
  store::NewRevision revision;
  revision.document = document;
  revision.secrets = candidate->secrets;
  revision.author = "file";
  revision.comment = head->active ? "edited while ergwd was stopped" : "imported at first start";
  revision.origin = store::Origin::file;
  revision.export_hash = file_->export_hash(candidate->document, candidate->secrets);
  auto id = store_.commit(revision);
  if (!id) return Error{id.error()};
  log_line(LogLevel::info, file + ": revision " + std::to_string(id.value()) + " (" + revision.comment + ")");
  WriteOptions o;
  o.actor = {"file", "local"};
  o.action = "start " + file;
  audit(o, 0, "stored", head->active, id.value(), revision.comment);
  return Status::success();
}

void ManagementService::export_active() {
  if (!file_) return;
  auto head = store_.head();
  if (!head || !head->active) return;
  auto revision = store_.get(*head->active);
  auto secrets = store_.secrets(*head->active);
  std::optional<nlohmann::json> document;
  if (revision && revision.value()) document = parse_json(revision.value()->document);
  if (!document || !secrets) {
    log_line(LogLevel::error, "cannot export revision " + std::to_string(*head->active) + ": the store cannot be read");
    return;
  }
  if (auto s = file_->write(*document, secrets.value()); !s) log_line(LogLevel::error, "exporting revision " + std::to_string(*head->active) + ": " + s.error());
}

Status ManagementService::start() {
  auto head = store_.head();
  if (!head) return Error{head.error()};
  if (head->pending && head->confirm_deadline.value_or(0) <= unix_now()) {
    const auto pending = *head->pending;
    const std::string why = "the confirmation did not arrive by " + iso_time(head->confirm_deadline.value_or(0)) +
                            " (ergwd was stopped)";
    auto back = store_.revert_pending(why, unix_now());
    if (!back) return Error{back.error()};
    log_line(LogLevel::warning, "revision " + std::to_string(pending) + ": " + why + "; back to revision " +
                                    (back.value() != 0 ? std::to_string(back.value()) : std::string("none")));
    WriteOptions o;
    o.actor = {"ergwd", "internal"};
    o.action = "confirm deadline passed";
    audit(o, 0, "rolled back", pending, back.value() != 0 ? std::optional<int64_t>(back.value()) : std::nullopt, why);
  }
  if (auto s = import_file_at_start(); !s) return s;
  head = store_.head();
  if (!head) return Error{head.error()};
  if (head->active) {
    board_.publish_not_ready({});
    apply_stored(head->active, "start");
  } else {
    board_.publish_not_ready({"no configuration yet"});
    log_line(LogLevel::info, "no configuration yet: PUT /v1/config (or write the configuration file and send SIGHUP)");
  }
  export_active();
  if (head->pending) {
    log_line(LogLevel::warning, "revision " + std::to_string(*head->pending) + " waits for its confirmation until " +
                                    iso_time(head->confirm_deadline.value_or(0)));
    arm_confirm_timer();
  }
  publish();
  heartbeat();
  return Status::success();
}

void ManagementService::reload_if_asked() {
  if (!reload_when_idle_) return;
  reload_when_idle_ = false;
  auto alive = alive_;
  boost::asio::post(io_, [this, alive, waiters = std::exchange(reload_waiters_, {})] {
    if (!*alive) return;
    reload_file([waiters](bool accepted) {
      for (const auto& w : waiters) w(accepted);
    });
  });
}

void ManagementService::heartbeat() {
  publish();
  heartbeat_timer_.expires_after(std::chrono::seconds(1));
  auto alive = alive_;
  heartbeat_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    heartbeat();
  });
}

}  // namespace ergw::api
