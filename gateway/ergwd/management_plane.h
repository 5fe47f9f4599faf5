// ManagementPlane: ergwd's management API, hosted. It opens the store and
// the audit log in the state directory, runs the ManagementService (the one
// writer of the configuration) on ergwd's loop, and the HTTPS and local
// socket listeners on a thread of their own (ApiServer), where reads are
// answered from the store's reader connection and the SnapshotBoard without
// ever waiting for ergwd's loop. Every change of the configuration - API,
// configuration file + SIGHUP, rollback, a missed confirmation - reaches the
// daemon through the one Backend (api/backend.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "common/result.h"
#include "gateway/api/api_server.h"
#include "gateway/api/audit_log.h"
#include "gateway/api/backend.h"
#include "gateway/api/management_service.h"
#include "gateway/api/snapshot_board.h"
#include "gateway/diagnose/diagnoser.h"
#include "gateway/store/sqlite.h"

namespace ergw::gateway {

struct ManagementOptions {
  // The store (store.db), the audit log (audit.log) and the generated TLS
  // certificate (api/tls.crt, api/tls.key) live here (mode 0700).
  std::string state_dir = "/var/lib/ergw";
  std::string api_listen;                       // "ADDRESS:PORT"; empty: no HTTPS
  std::string api_socket = "/run/ergw/ergwd.sock";  // root's local socket; empty: none
  std::string api_certificate;                  // empty: <state_dir>/api/tls.crt (generated if missing)
  std::string api_private_key;                  // empty: <state_dir>/api/tls.key
  std::string api_client_ca;                    // non-empty: mutual TLS
  int keep_revisions = 50;
  int64_t min_confirm_seconds = 5;
};

class ManagementPlane {
 public:
  // `config_file` (may be empty) is the file workflow's file: the active
  // revision is exported to it and its edits become revisions.
  ManagementPlane(boost::asio::io_context& io, ManagementOptions options, std::string config_file,
                  api::Backend& backend);
  ~ManagementPlane();
  ManagementPlane(const ManagementPlane&) = delete;
  ManagementPlane& operator=(const ManagementPlane&) = delete;

  // Opens the store and the audit log; nothing is applied yet.
  Status open();
  // Takes the store's state (a confirmation that expired while ergwd was
  // stopped is undone, an edited file imported) and applies the active
  // revision through the backend. An error: ergwd cannot start.
  Status start_service();
  // Listens (HTTPS, local socket). After start_service().
  Status start_api();
  void stop();

  // SIGHUP and the control socket's `reload`: the file becomes a revision;
  // `done(accepted)` once it is applied or refused.
  void reload_file(std::function<void(bool accepted)> done);

  api::SnapshotBoard& board() { return board_; }

 private:
  boost::asio::io_context& io_;
  ManagementOptions options_;
  std::string config_file_;
  api::Backend& backend_;
  api::SnapshotBoard board_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<api::AuditLog> audit_;
  std::unique_ptr<api::ManagementService> service_;
  std::unique_ptr<api::ApiServer> server_;
  // After server_: destroyed first, its thread joined while the API's
  // executor it answers on still exists.
  std::unique_ptr<diagnose::Diagnoser> diagnoser_ = std::make_unique<diagnose::Diagnoser>();
};

}  // namespace ergw::gateway
