// api_test_server: the management API as ergwd runs it (store, management
// service, HTTPS and unix-socket server on their threads), in front of the
// FakeBackend instead of charon and BIRD. For the API's HTTP tests (Python
// and curl) and its benchmark; prints "ready port=N" when it serves.
// SIGHUP re-reads --config; SIGTERM stops.
#include <csignal>
#include <iostream>

#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>

#include "gateway/api/api_server.h"
#include "gateway/api/management_service.h"
#include "gateway/ergwd/log.h"
#include "gateway/store/store_file.h"
#include "tests/gateway/api/fake_backend.h"

int main(int argc, char** argv) {
  CLI::App app{"the management API over a fake daemon, for tests"};
  std::string state_dir;
  std::string listen = "127.0.0.1:0";
  std::string socket;
  std::string config_file;
  std::string client_ca;
  int keep = 50;
  int up_delay_ms = 200;
  int apply_delay_ms = 20;
  int track_limit_ms = 10000;
  app.add_option("--state-dir", state_dir)->required();
  app.add_option("--listen", listen);
  app.add_option("--socket", socket);
  app.add_option("--config", config_file);
  app.add_option("--client-ca", client_ca);
  app.add_option("--keep", keep);
  app.add_option("--up-delay-ms", up_delay_ms);
  app.add_option("--apply-delay-ms", apply_delay_ms);
  app.add_option("--track-limit-ms", track_limit_ms);
  CLI11_PARSE(app, argc, argv);

  namespace api = ergw::api;
  const std::string store_path = state_dir + "/store.db";
  auto db = ergw::store::open_store(store_path);
  if (!db) {
    std::cerr << db.error() << "\n";
    return 1;
  }
  auto audit = api::AuditLog::open(state_dir + "/audit.log");
  if (!audit) {
    std::cerr << audit.error() << "\n";
    return 1;
  }
  boost::asio::io_context io;
  api::SnapshotBoard board;
  api::testing::FakeBackendOptions fake;
  fake.up_delay = std::chrono::milliseconds(up_delay_ms);
  fake.apply_delay = std::chrono::milliseconds(apply_delay_ms);
  api::testing::FakeBackend backend(io, board, fake);
  api::ServiceOptions service_options;
  service_options.config_file = config_file;
  service_options.track_limit = std::chrono::milliseconds(track_limit_ms);
  api::ManagementService service(io, *db.value(), {keep}, backend, board, *audit.value(), service_options);
  if (auto s = service.start(); !s) {
    std::cerr << s.error() << "\n";
    return 2;
  }
  api::ApiServerOptions server_options;
  server_options.listen = listen;
  server_options.unix_socket = socket;
  server_options.store_path = store_path;
  server_options.tls.certificate_file = state_dir + "/api/tls.crt";
  server_options.tls.key_file = state_dir + "/api/tls.key";
  server_options.tls.client_ca_file = client_ca;
  server_options.tls.dns_names = {"localhost"};
  server_options.tls.ip_addresses = {"127.0.0.1", "::1"};
  api::HandlerContext context;
  context.daemon_executor = io.get_executor();
  context.service = &service;
  context.board = &board;
  context.audit = audit.value().get();
  context.build = {"test", "test"};
  api::ApiServer server(server_options, context);
  if (auto s = server.start(); !s) {
    std::cerr << s.error() << "\n";
    return 1;
  }
  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void()> wait_for_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        service.reload_file();
        wait_for_signal();
        return;
      }
      io.stop();
    });
  };
  wait_for_signal();
  std::cout << "ready port=" << server.port() << " fingerprint=" << server.fingerprint() << std::endl;
  io.run();
  server.stop();
  return 0;
}
