#include "gateway/api/request_handler.h"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/version.hpp>

#include "common/parse_json.h"
#include "gateway/api/config_diff.h"
#include "gateway/api/connection_resource.h"
#include "gateway/api/openapi_document.h"
#include "gateway/api/problem.h"
#include "gateway/store/api_key_store.h"
#include "gateway/store/revision_store.h"

namespace ergw::api {

namespace http = boost::beast::http;

namespace {

constexpr int64_t kMaxWaitSeconds = 300;
constexpr int64_t kHeartbeatLimitSeconds = 10;

std::string dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string etag_text(int64_t revision) { return "\"" + std::to_string(revision) + "\""; }

// Percent-decoding for query values ('+' is a space there).
std::string query_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    const size_t end = std::min(query.find('&', start), query.size());
    const auto pair = query.substr(start, end - start);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      out[query_decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : query_decode(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  return out;
}

std::optional<int64_t> parse_integer(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// If-Match: "12" (the revision id as ETag); W/ tags and lists are not ours.
std::optional<int64_t> parse_if_match(std::string_view value) {
  if (value.size() < 3 || value.front() != '"' || value.back() != '"') return std::nullopt;
  return parse_integer(std::string(value.substr(1, value.size() - 2)));
}

nlohmann::json revision_json(const store::RevisionInfo& r, const store::Head& head) {
  std::string state = "superseded";
  if (r.reverted_at) {
    state = "reverted";
  } else if (head.pending && *head.pending == r.id) {
    state = "pending";
  } else if (head.active && *head.active == r.id) {
    state = "active";
  }
  nlohmann::json j = {{"id", r.id},
                      {"parent", r.parent ? nlohmann::json(*r.parent) : nlohmann::json(nullptr)},
                      {"created", iso_time(r.created_at)},
                      {"author", r.author},
                      {"comment", r.comment},
                      {"origin", r.origin},
                      {"content_hash", r.content_hash},
                      {"state", state}};
  if (r.reverted_at) j["reverted"] = {{"at", iso_time(*r.reverted_at)}, {"why", r.reverted_why}};
  auto outcome = r.outcome.empty() ? std::nullopt : parse_json(r.outcome);
  j["apply"] = outcome ? *outcome : nlohmann::json(nullptr);
  return j;
}

// The configuration's state as far as /metrics shows it (the heartbeat aside).
bool same_for_metrics(const metrics::ConfigObservation& a, const metrics::ConfigObservation& b) {
  return a.active_revision == b.active_revision && a.pending_revision == b.pending_revision &&
         a.confirm_deadline == b.confirm_deadline && a.applies == b.applies && a.apply_failures == b.apply_failures &&
         a.auth_failures == b.auth_failures;
}

nlohmann::json pending_json(const store::Head& head) {
  if (!head.pending) return {{"pending", false}};
  return {{"pending", true},
          {"revision", *head.pending},
          {"fallback", head.fallback ? nlohmann::json(*head.fallback) : nlohmann::json(nullptr)},
          {"deadline", iso_time(head.confirm_deadline.value_or(0))},
          {"deadline_unix", head.confirm_deadline.value_or(0)},
          {"seconds_left", whole_seconds_until(head.confirm_deadline.value_or(0))}};
}

}  // namespace

struct RequestHandler::Call {
  const Request& request;
  Principal principal;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> query;
  std::string path;
  Respond respond;
  unsigned version;
  bool keep_alive;

  Response base(http::status status) const {
    Response r{status, version};
    r.set(http::field::server, "ergwd");
    r.set(http::field::cache_control, "no-store");
    r.keep_alive(keep_alive);
    return r;
  }

  void json(int status, const nlohmann::json& body, std::optional<int64_t> etag = std::nullopt,
            const std::string& location = "") const {
    auto r = base(static_cast<http::status>(status));
    r.set(http::field::content_type, body.contains("type") && body.contains("title") && status >= 400
                                         ? "application/problem+json"
                                         : "application/json");
    if (etag) r.set(http::field::etag, etag_text(*etag));
    if (!location.empty()) r.set(http::field::location, location);
    r.body() = dump(body);
    r.prepare_payload();
    respond(std::move(r));
  }

  void fail(int status, const std::string& kind, const std::string& title, const std::string& detail) const {
    json(status, problem(status, kind, title, detail));
  }
};

RequestHandler::RequestHandler(HandlerContext context)
    : context_(std::move(context)), authenticator_(*context_.reader, *context_.board, *context_.audit) {
  route(Op::healthz, "GET", "/healthz", Access::open);
  route(Op::readyz, "GET", "/readyz", Access::open);
  route(Op::openapi, "GET", "/v1/openapi.json", Access::open);
  route(Op::metrics, "GET", "/metrics", Access::read);
  route(Op::status, "GET", "/v1/status", Access::read);
  route(Op::bgp_sessions, "GET", "/v1/bgp/sessions", Access::read);
  route(Op::bgp_routes, "GET", "/v1/bgp/routes", Access::read);
  route(Op::get_config, "GET", "/v1/config", Access::read);
  route(Op::put_config, "PUT", "/v1/config", Access::admin);
  route(Op::validate_config, "POST", "/v1/config:validate", Access::read);
  route(Op::list_revisions, "GET", "/v1/config/revisions", Access::read);
  route(Op::get_revision, "GET", "/v1/config/revisions/{id}", Access::read);
  route(Op::diff_revision, "GET", "/v1/config/revisions/{id}/diff", Access::read);
  route(Op::rollback, "POST", "/v1/config/revisions/{id}:rollback", Access::admin);
  route(Op::get_confirm, "GET", "/v1/config/confirm", Access::read);
  route(Op::post_confirm, "POST", "/v1/config/confirm", Access::admin);
  route(Op::list_connections, "GET", "/v1/connections", Access::read);
  route(Op::get_connection, "GET", "/v1/connections/{name}", Access::read);
  route(Op::put_connection, "PUT", "/v1/connections/{name}", Access::admin);
  route(Op::delete_connection, "DELETE", "/v1/connections/{name}", Access::admin);
  route(Op::put_shared_key, "PUT", "/v1/connections/{name}/sharedkey", Access::admin);
  route(Op::put_bgp_password, "PUT", "/v1/connections/{name}/bgppassword", Access::admin);
  route(Op::connection_status, "GET", "/v1/connections/{name}/status", Access::read);
  route(Op::diagnose, "GET", "/v1/diagnose", Access::read);
  route(Op::connection_diagnose, "GET", "/v1/connections/{name}/diagnose", Access::read);
  route(Op::list_keys, "GET", "/v1/apikeys", Access::admin);
  route(Op::create_key, "POST", "/v1/apikeys", Access::admin);
  route(Op::revoke_key, "DELETE", "/v1/apikeys/{name}", Access::admin);
}

void RequestHandler::route(Op op, std::string method, std::string pattern, Access access) {
  router_.add(http::string_to_verb(method), std::move(pattern), access);
  ops_.push_back(op);
}

void RequestHandler::handle(const Request& request, const Peer& peer, Respond respond) {
  const std::string_view target(request.target().data(), request.target().size());
  const auto question = target.find('?');
  // Principal{} spelled out: GCC 12 at -O3 takes a bare {} here for a
  // Principal whose string may be used uninitialized.
  Call call{request,
            Principal{},
            {},
            parse_query(question == std::string_view::npos ? std::string_view() : target.substr(question + 1)),
            std::string(target.substr(0, question)),
            std::move(respond),
            request.version(),
            request.keep_alive()};
  const auto match = router_.match(request.method(), call.path);
  if (match.route < 0) {
    if (!match.allowed.empty()) {
      auto r = call.base(http::status::method_not_allowed);
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      r.set(http::field::allow, allow);
      r.set(http::field::content_type, "application/problem+json");
      r.body() = dump(problem(405, "method-not-allowed", "method not allowed",
                              std::string(request.method_string()) + " " + call.path + "; allowed: " + allow));
      r.prepare_payload();
      call.respond(std::move(r));
      return;
    }
    call.fail(404, "not-found", "no such resource", call.path + " (the API is described at /v1/openapi.json)");
    return;
  }
  call.params = match.params;
  const Access access = router_.access(match.route);
  if (access != Access::open) {
    const std::string action = std::string(request.method_string()) + " " + call.path;
    const auto auth = authenticator_.authenticate(peer, request[http::field::authorization], action);
    if (!auth.principal) {
      auto r = call.base(static_cast<http::status>(auth.status));
      r.set(http::field::content_type, "application/problem+json");
      if (auth.status == 401) r.set(http::field::www_authenticate, "Bearer realm=\"ergw\"");
      if (auth.retry_after_seconds > 0) r.set(http::field::retry_after, std::to_string(auth.retry_after_seconds));
      const char* title = auth.status == 401   ? "authentication required"
                          : auth.status == 429 ? "too many refused attempts"
                          : auth.status == 403 ? "forbidden"
                                               : "not available";
      r.body() = dump(problem(auth.status, auth.status == 429 ? "rate-limited" : "unauthorized", title, auth.detail));
      r.prepare_payload();
      call.respond(std::move(r));
      return;
    }
    call.principal = *auth.principal;
    if (access == Access::admin && call.principal.scope != Scope::admin) {
      context_.audit->write({call.principal.name, call.principal.source, action, std::nullopt, std::nullopt, 403,
                             "refused", "the key's scope is read"});
      call.fail(403, "forbidden", "the API key may only read", "\"" + call.principal.name +
                                                                   "\" has the read scope; this needs admin");
      return;
    }
  }
  dispatch(ops_[static_cast<size_t>(match.route)], call);
}

void RequestHandler::dispatch(Op op, Call& call) {
  switch (op) {
    case Op::put_config:
    case Op::rollback:
    case Op::post_confirm:
    case Op::put_connection:
    case Op::delete_connection:
    case Op::put_shared_key:
    case Op::put_bgp_password:
    case Op::create_key:
    case Op::revoke_key:
    case Op::validate_config:
      write_op(op, call);
      return;
    default:
      read_op(op, call);
  }
}

void RequestHandler::read_op(Op op, Call& call) {
  auto& board = *context_.board;
  auto& reader = *context_.reader;
  auto head = store::read_head(reader);
  if (!head) {
    call.fail(503, "store", "the store cannot be read", head.error());
    return;
  }
  const int64_t active = head->active.value_or(0);
  auto active_document = [&]() -> std::optional<nlohmann::json> {
    if (!head->active) return nlohmann::json{{"connections", nlohmann::json::array()}};
    auto revision = store::read_revision(reader, *head->active);
    if (!revision || !revision.value()) return std::nullopt;
    return parse_json(revision.value()->document);
  };
  auto observed = [&](const std::string& name) -> std::optional<metrics::ConnectionObservation> {
    const auto observation = board.observation();
    for (const auto& c : observation->connections) {
      if (c.name == name) return c;
    }
    return std::nullopt;
  };

  switch (op) {
    case Op::healthz: {
      const auto config = board.config();
      const int64_t age = unix_now() - config.heartbeat;
      if (config.heartbeat == 0 || age > kHeartbeatLimitSeconds) {
        call.json(503, {{"status", "unhealthy"},
                        {"detail", "ergwd's main loop has not run for " + std::to_string(age) + " s"}});
      } else {
        call.json(200, {{"status", "ok"}});
      }
      return;
    }
    case Op::readyz: {
      auto reasons = board.not_ready();
      const auto observation = board.observation();
      if (!observation->daemons.charon_up) reasons.push_back("charon is not connected");
      if (observation->daemons.bird_up && !*observation->daemons.bird_up) reasons.push_back("BIRD is not running");
      if (reasons.empty()) {
        call.json(200, {{"ready", true}});
      } else {
        call.json(503, {{"ready", false}, {"reasons", reasons}});
      }
      return;
    }
    case Op::openapi: {
      auto r = call.base(http::status::ok);
      r.set(http::field::content_type, "application/json");
      r.body() = std::string(openapi_document());
      r.prepare_payload();
      call.respond(std::move(r));
      return;
    }
    case Op::metrics: {
      // Rendered once per state published, not once per scrape.
      const auto observation = board.observation();
      const auto config = board.config();
      const auto reconciles = board.reconcile_duration().Collect().histogram.sample_count;
      auto& cache = cache_.metrics;
      if (cache.text.empty() || cache.observation != observation || !same_for_metrics(cache.config, config) ||
          cache.reconciles != reconciles) {
        metrics::MetricsInput in{observation.get(), &config, &board.reconcile_duration(), context_.build};
        cache = {observation, config, reconciles, metrics::render_metrics(in)};
      }
      auto r = call.base(http::status::ok);
      r.set(http::field::content_type, metrics::kMetricsContentType);
      r.body() = cache.text;
      r.prepare_payload();
      call.respond(std::move(r));
      return;
    }
    case Op::status: {
      const auto status = board.status();
      const auto observation = board.observation();
      const int64_t now = unix_now();  // seconds_left changes every second
      auto& cache = cache_.status;
      if (cache.text.empty() || cache.status != status || cache.observation != observation ||
          cache.head_active != head->active || cache.head_pending != head->pending || cache.now != now) {
        nlohmann::json j = *status;
        j["config"] = pending_json(head.value());
        j["config"]["active_revision"] = active;
        j["observed_at"] = iso_time(observation->taken_at);
        cache = {status, observation, head->active, head->pending, now, dump(j)};
      }
      auto r = call.base(http::status::ok);
      r.set(http::field::content_type, "application/json");
      r.set(http::field::etag, etag_text(active));
      r.body() = cache.text;
      r.prepare_payload();
      call.respond(std::move(r));
      return;
    }
    case Op::bgp_sessions:
    case Op::bgp_routes: {
      const auto status = board.status();
      const auto bgp = status->value("bgp", nlohmann::json::object());
      if (op == Op::bgp_routes) {
        call.json(200, {{"enabled", bgp.value("enabled", false)},
                        {"routes", bgp.value("routes", nlohmann::json::array())}});
      } else {
        call.json(200, {{"enabled", bgp.value("enabled", false)},
                        {"bird", bgp.value("bird", nlohmann::json::object())},
                        {"sessions", bgp.value("sessions", nlohmann::json::array())}});
      }
      return;
    }
    case Op::get_config: {
      auto document = active_document();
      if (!document) return call.fail(503, "store", "the active revision cannot be read", "");
      call.json(200, *document, active);
      return;
    }
    case Op::get_confirm:
      call.json(200, pending_json(head.value()), active);
      return;
    case Op::list_revisions: {
      auto list = store::read_revisions(reader);
      if (!list) return call.fail(503, "store", "the store cannot be read", list.error());
      nlohmann::json revisions = nlohmann::json::array();
      for (const auto& r : list.value()) revisions.push_back(revision_json(r, head.value()));
      call.json(200, {{"active", active}, {"confirm", pending_json(head.value())}, {"revisions", revisions}}, active);
      return;
    }
    case Op::get_revision:
    case Op::diff_revision: {
      const auto id = parse_integer(call.params["id"]);
      auto revision = id ? store::read_revision(reader, *id) : Result<std::optional<store::Revision>>(std::nullopt);
      if (!revision) return call.fail(503, "store", "the store cannot be read", revision.error());
      if (!revision.value()) {
        return call.fail(404, "not-found", "no such revision",
                         "revision " + call.params["id"] + " is not in the store (pruned, or never made)");
      }
      auto document = parse_json(revision.value()->document);
      if (op == Op::get_revision) {
        auto j = revision_json(revision.value()->info, head.value());
        j["document"] = document ? *document : nlohmann::json(nullptr);
        call.json(200, j, active);
        return;
      }
      std::optional<int64_t> against = revision.value()->info.parent;
      if (call.query.count("against")) {
        against = parse_integer(call.query["against"]);
        if (!against) return call.fail(400, "bad-request", "against is not a revision id", call.query["against"]);
      }
      nlohmann::json from_document = {{"connections", nlohmann::json::array()}};
      if (against) {
        auto from = store::read_revision(reader, *against);
        if (!from || !from.value()) {
          return call.fail(404, "not-found", "no such revision", "revision " + std::to_string(*against) +
                                                                     " is not in the store (pruned, or never made)");
        }
        if (auto parsed = parse_json(from.value()->document)) from_document = *parsed;
      }
      nlohmann::json changes = nlohmann::json::array();
      for (const auto& c : diff_documents(from_document, document.value_or(nlohmann::json::object()))) {
        nlohmann::json j = {{"change", change_kind_name(c.kind)}, {"path", c.path}};
        if (!c.from.is_null()) j["from"] = c.from;
        if (!c.to.is_null()) j["to"] = c.to;
        changes.push_back(std::move(j));
      }
      nlohmann::json secrets = nlohmann::json::array();
      nlohmann::json passwords = nlohmann::json::array();
      auto changed = store::read_changed_secrets(reader, against.value_or(0), *id);
      if (changed) {
        for (const auto& name : changed.value()) {
          if (auto connection = store::bgp_password_connection(name)) {
            passwords.push_back(*connection);
          } else {
            secrets.push_back(name);
          }
        }
      }
      call.json(200,
                {{"from", against ? nlohmann::json(*against) : nlohmann::json(nullptr)},
                 {"to", *id},
                 {"changes", changes},
                 {"shared_keys_changed", secrets},
                 {"bgp_passwords_changed", passwords}},
                active);
      return;
    }
    case Op::list_connections:
    case Op::get_connection:
    case Op::connection_status: {
      auto document = active_document();
      if (!document) return call.fail(503, "store", "the active revision cannot be read", "");
      const auto provisioning = board.config().applying ? Provisioning::updating : Provisioning::succeeded;
      if (op == Op::list_connections) {
        nlohmann::json list = nlohmann::json::array();
        const auto names = connection_names(*document);
        for (size_t i = 0; i < names.size(); ++i) {
          auto seen = observed(names[i]);
          list.push_back(connection_resource(*document, i, names[i], seen ? &*seen : nullptr, provisioning));
        }
        call.json(200, {{"value", list}}, active);
        return;
      }
      const auto& name = call.params["name"];
      const auto index = find_connection(*document, name);
      if (!index) return call.fail(404, "not-found", "no such connection", "\"" + name + "\" is not configured");
      if (op == Op::get_connection) {
        auto seen = observed(name);
        auto resource = connection_resource(*document, *index, name, seen ? &*seen : nullptr, provisioning);
        resource["etag"] = etag_text(active);
        call.json(200, resource, active);
        return;
      }
      const auto status = board.status();
      for (const auto& c : status->value("connections", nlohmann::json::array())) {
        if (c.value("name", "") == name) {
          call.json(200, c, active);
          return;
        }
      }
      call.json(200, {{"name", name}, {"state", "UNKNOWN"}, {"detail", "not observed yet"}}, active);
      return;
    }
    case Op::diagnose:
    case Op::connection_diagnose: {
      auto document = active_document();
      if (!document) return call.fail(503, "store", "the active revision cannot be read", "");
      diagnose_op(op, call, *document);
      return;
    }
    case Op::list_keys: {
      store::ApiKeyStore keys(reader);
      auto list = keys.list();
      if (!list) return call.fail(503, "store", "the store cannot be read", list.error());
      nlohmann::json out = nlohmann::json::array();
      for (const auto& k : list.value()) {
        nlohmann::json j = {{"name", k.name},
                            {"scope", k.scope},
                            {"created", iso_time(k.created_at)},
                            {"created_by", k.created_by},
                            {"revoked", k.revoked_at.has_value()}};
        if (k.revoked_at) j["revoked_at"] = iso_time(*k.revoked_at);
        out.push_back(std::move(j));
      }
      call.json(200, {{"keys", out}});
      return;
    }
    default:
      call.fail(500, "internal", "unrouted operation", "");
  }
}

void RequestHandler::diagnose_op(Op op, Call& call, const nlohmann::json& document) {
  if (context_.diagnoser == nullptr) {
    return call.fail(501, "not-implemented", "diagnosis is not available here", "this server runs no diagnoser");
  }
  std::string only;
  if (op == Op::connection_diagnose) {
    only = call.params["name"];
  } else if (call.query.count("connection")) {
    only = call.query["connection"];
  }
  if (!only.empty() && !find_connection(document, only)) {
    return call.fail(404, "not-found", "no such connection", "\"" + only + "\" is not configured");
  }
  auto respond = [api = context_.api_executor, call_respond = call.respond, version = call.version,
                  keep_alive = call.keep_alive, only](std::vector<diagnose::Finding> findings) {
    boost::asio::post(api, [call_respond, version, keep_alive, only, findings = std::move(findings)] {
      nlohmann::json summary = {{"ok", 0}, {"warning", 0}, {"fail", 0}, {"skipped", 0}};
      for (const auto& f : findings) {
        auto& count = summary[std::string(diagnose::to_string(f.result))];
        count = count.get<int>() + 1;
      }
      const nlohmann::json body = {{"taken_at", iso_time(unix_now())},
                                   {"connection", only.empty() ? nlohmann::json(nullptr) : nlohmann::json(only)},
                                   {"summary", summary},
                                   {"findings", diagnose::to_json(findings)}};
      Response r{http::status::ok, version};
      r.set(http::field::server, "ergwd");
      r.set(http::field::cache_control, "no-store");
      r.set(http::field::content_type, "application/json");
      r.keep_alive(keep_alive);
      r.body() = dump(body);
      r.prepare_payload();
      call_respond(std::move(r));
    });
  };
  const auto status = context_.board->status();
  if (!context_.diagnoser->start(*status, document, only, std::move(respond))) {
    auto r = call.base(http::status::service_unavailable);
    r.set(http::field::content_type, "application/problem+json");
    r.set(http::field::retry_after, "10");
    r.body() = dump(problem(503, "busy", "a diagnosis is running", "one diagnosis at a time; try again shortly"));
    r.prepare_payload();
    call.respond(std::move(r));
  }
}

void RequestHandler::write_op(Op op, Call& call) {
  // The body, when the operation takes one.
  const bool takes_body = op == Op::put_config || op == Op::validate_config || op == Op::put_connection ||
                          op == Op::put_shared_key || op == Op::put_bgp_password || op == Op::create_key;
  nlohmann::json body;
  if (takes_body) {
    const auto type = call.request[http::field::content_type];
    if (!type.empty() && type.substr(0, 16) != "application/json") {
      return call.fail(415, "unsupported-media-type", "the body must be JSON",
                       "Content-Type: application/json");
    }
    ergw::JsonSyntaxError error;
    auto parsed = parse_json(call.request.body(), &error);
    if (!parsed) {
      return call.fail(400, "bad-request", "the body is not JSON",
                       error.what + (error.byte ? " at byte " + std::to_string(error.byte) : ""));
    }
    body = std::move(*parsed);
  }
  WriteOptions o;
  o.actor = {call.principal.name, call.principal.source};
  o.action = std::string(call.request.method_string()) + " " + call.path;
  const auto if_match = call.request[http::field::if_match];
  const bool needs_if_match = op == Op::put_config || op == Op::rollback || op == Op::post_confirm ||
                              op == Op::put_connection || op == Op::delete_connection || op == Op::put_shared_key ||
                              op == Op::put_bgp_password;
  if (needs_if_match) {
    if (if_match.empty()) {
      return call.fail(428, "precondition-required", "If-Match is required",
                       "send If-Match with the ETag of the revision the change is based on (GET /v1/config)");
    }
    o.if_match = parse_if_match(std::string_view(if_match.data(), if_match.size()));
    if (!o.if_match) {
      return call.fail(412, "precondition-failed", "If-Match is not a revision ETag",
                       "the ETag is the revision id in quotes, e.g. If-Match: \"12\"");
    }
  }
  if (call.query.count("confirm")) {
    o.confirm_seconds = parse_integer(call.query["confirm"]);
    if (!o.confirm_seconds) return call.fail(400, "bad-request", "confirm is not a number of seconds", "");
  }
  if (call.query.count("wait")) {
    auto wait = parse_integer(call.query["wait"]);
    if (!wait || *wait > kMaxWaitSeconds) {
      return call.fail(400, "bad-request", "wait is out of range", "allowed: 0.." + std::to_string(kMaxWaitSeconds));
    }
    o.wait = std::chrono::seconds(*wait);
  }
  if (call.query.count("comment")) o.comment = call.query["comment"].substr(0, 500);
  std::optional<int64_t> rollback_target;
  if (op == Op::rollback) {
    rollback_target = parse_integer(call.params["id"]);
    if (!rollback_target) return call.fail(404, "not-found", "no such revision", call.params["id"]);
  }

  // Hand over to the daemon thread; answer back on this one.
  auto respond = [api = context_.api_executor, call_respond = call.respond, version = call.version,
                  keep_alive = call.keep_alive](ServiceReply reply) {
    boost::asio::post(api, [call_respond, version, keep_alive, reply = std::move(reply)] {
      Response r{static_cast<http::status>(reply.status), version};
      r.set(http::field::server, "ergwd");
      r.set(http::field::cache_control, "no-store");
      r.keep_alive(keep_alive);
      if (reply.status != 204) {
        const bool is_problem = reply.status >= 400 && reply.body.contains("type") && reply.body.contains("title");
        r.set(http::field::content_type, is_problem ? "application/problem+json" : "application/json");
        r.body() = dump(reply.body);
      }
      if (reply.etag) r.set(http::field::etag, etag_text(*reply.etag));
      if (!reply.location.empty()) r.set(http::field::location, reply.location);
      if (reply.retry_after_seconds) r.set(http::field::retry_after, std::to_string(*reply.retry_after_seconds));
      r.prepare_payload();
      call_respond(std::move(r));
    });
  };
  auto* service = context_.service;
  const std::string name = call.params.count("name") ? call.params["name"] : "";
  const Actor actor = o.actor;
  boost::asio::post(context_.daemon_executor, [op, service, body = std::move(body), o = std::move(o), respond, name,
                                               actor, rollback_target]() mutable {
    switch (op) {
      case Op::put_config: service->put_config(body, std::move(o), respond); break;
      case Op::validate_config: service->validate_config(body, respond); break;
      case Op::rollback: service->rollback(*rollback_target, std::move(o), respond); break;
      case Op::post_confirm: service->confirm(std::move(o), respond); break;
      case Op::put_connection: service->put_connection(name, body, std::move(o), respond); break;
      case Op::delete_connection: service->delete_connection(name, std::move(o), respond); break;
      case Op::put_shared_key: service->put_shared_key(name, body, std::move(o), respond); break;
      case Op::put_bgp_password: service->put_bgp_password(name, body, std::move(o), respond); break;
      case Op::create_key: service->create_api_key(body, actor, respond); break;
      case Op::revoke_key: service->revoke_api_key(name, actor, respond); break;
      default: break;
    }
  });
}

}  // namespace ergw::api
