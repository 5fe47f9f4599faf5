#include "gateway/ergwd/management_plane.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "common/build_info.h"
#include "gateway/ergwd/log.h"
#include "gateway/store/store_file.h"

namespace ergw::gateway {
namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace

ManagementPlane::ManagementPlane(boost::asio::io_context& io, ManagementOptions options, std::string config_file,
                                 api::Backend& backend)
    : io_(io), options_(std::move(options)), config_file_(std::move(config_file)), backend_(backend) {}

ManagementPlane::~ManagementPlane() { stop(); }

Status ManagementPlane::open() {
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  if (ec) return Error{"--state-dir " + options_.state_dir + ": " + ec.message()};
  ::chmod(options_.state_dir.c_str(), 0700);  // the store holds PSKs
  auto db = store::open_store(options_.state_dir + "/store.db");
  if (!db) return Error{db.error()};
  db_ = std::move(db.value());
  auto audit = api::AuditLog::open(options_.state_dir + "/audit.log");
  if (!audit) return Error{audit.error()};
  audit_ = std::move(audit.value());
  api::ServiceOptions service;
  service.config_file = config_file_;
  service.min_confirm_seconds = options_.min_confirm_seconds;
  service_ = std::make_unique<api::ManagementService>(io_, *db_, store::RevisionStoreOptions{options_.keep_revisions},
                                                      backend_, board_, *audit_, service);
  return Status::success();
}

Status ManagementPlane::start_service() { return service_->start(); }

Status ManagementPlane::start_api() {
  api::ApiServerOptions server;
  server.listen = options_.api_listen;
  server.unix_socket = options_.api_socket;
  server.store_path = options_.state_dir + "/store.db";
  server.tls.certificate_file =
      options_.api_certificate.empty() ? options_.state_dir + "/api/tls.crt" : options_.api_certificate;
  server.tls.key_file = options_.api_private_key.empty() ? options_.state_dir + "/api/tls.key" : options_.api_private_key;
  server.tls.client_ca_file = options_.api_client_ca;
  server.tls.dns_names = {host_name(), "localhost"};
  if (auto address = api::parse_listen_address(options_.api_listen)) {
    const auto& host = address->first;
    if (host != "0.0.0.0" && host != "::") server.tls.ip_addresses.push_back(host);
  }
  server.tls.ip_addresses.push_back("127.0.0.1");
  server.tls.ip_addresses.push_back("::1");
  api::HandlerContext context;
  context.daemon_executor = io_.get_executor();
  context.service = service_.get();
  context.board = &board_;
  context.audit = audit_.get();
  context.build = {std::string(build_version()), std::string(build_commit())};
  context.diagnoser = diagnoser_.get();
  server_ = std::make_unique<api::ApiServer>(server, context);
  if (auto s = server_->start(); !s) return s;
  log_line(LogLevel::info, "API: " +
                               (options_.api_listen.empty() ? std::string("no HTTPS (--api-listen not given)")
                                                            : "HTTPS on " + options_.api_listen) +
                               (options_.api_socket.empty() ? std::string() : ", local socket " + options_.api_socket) +
                               "; store " + options_.state_dir + "/store.db");
  return Status::success();
}

void ManagementPlane::stop() {
  if (server_) server_->stop();
}

void ManagementPlane::reload_file(std::function<void(bool accepted)> done) { service_->reload_file(std::move(done)); }

}  // namespace ergw::gateway
