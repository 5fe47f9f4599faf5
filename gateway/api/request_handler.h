// RequestHandler: the API's resources. It authenticates each request
// (Authenticator), routes it (Router), answers reads at once from the store's
// reader connection and the SnapshotBoard, and hands writes to the
// ManagementService on the daemon's executor, answering when it replies.
// Every failure is an RFC 9457 problem with its own status: never 200.
//
// Runs on the API thread; `respond` is always called there, exactly once.
#pragma once

#include <functional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "gateway/api/authenticator.h"
#include "gateway/api/http_types.h"
#include "gateway/api/management_service.h"
#include "gateway/api/router.h"
#include "gateway/api/snapshot_board.h"
#include "gateway/diagnose/diagnoser.h"
#include "gateway/metrics/exposition.h"
#include "gateway/store/sqlite.h"

namespace ergw::api {

struct HandlerContext {
  boost::asio::any_io_executor api_executor;
  boost::asio::any_io_executor daemon_executor;
  ManagementService* service = nullptr;  // used on the daemon executor only
  store::Database* reader = nullptr;     // API thread only
  SnapshotBoard* board = nullptr;
  AuditLog* audit = nullptr;
  metrics::BuildInfo build;
  // Runs GET /v1/diagnose off the API thread; null: the operation answers 501.
  diagnose::Diagnoser* diagnoser = nullptr;
};

class RequestHandler {
 public:
  using Respond = std::function<void(Response)>;

  explicit RequestHandler(HandlerContext context);
  void handle(const Request& request, const Peer& peer, Respond respond);
  const Router& router() const { return router_; }

 private:
  enum class Op {
    healthz, readyz, metrics, openapi, status, bgp_sessions, bgp_routes,
    get_config, put_config, validate_config, list_revisions, get_revision, diff_revision, rollback,
    get_confirm, post_confirm, list_connections, get_connection, put_connection, delete_connection,
    put_shared_key, put_bgp_password, connection_status, list_keys, create_key, revoke_key, diagnose,
    connection_diagnose,
  };
  struct Call;

  void route(Op op, std::string method, std::string pattern, Access access);
  void dispatch(Op op, Call& call);
  void read_op(Op op, Call& call);
  void write_op(Op op, Call& call);
  void diagnose_op(Op op, Call& call, const nlohmann::json& document);

  // The last /metrics and /v1/status bodies and what they were made from: a
  // scrape or a status read renders only when the state changed.
  struct RenderCache {
    struct {
      std::shared_ptr<const metrics::Observation> observation;
      metrics::ConfigObservation config;
      uint64_t reconciles = 0;
      std::string text;
    } metrics;
    struct {
      std::shared_ptr<const nlohmann::json> status;
      std::shared_ptr<const metrics::Observation> observation;
      std::optional<int64_t> head_active;
      std::optional<int64_t> head_pending;
      int64_t now = 0;
      std::string text;
    } status;
  };

  HandlerContext context_;
  RenderCache cache_;
  Authenticator authenticator_;
  Router router_;
  std::vector<Op> ops_;  // by route index
};

}  // namespace ergw::api
