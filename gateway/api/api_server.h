// ApiServer: the API's listeners and their thread. HTTPS on the management
// address (TLS only: a client speaking plain HTTP gets one plain "400, this
// port speaks HTTPS" and the connection closes) and a unix socket for root
// on the appliance (mode 0600, peer credentials checked). Requests are
// answered on the server's own thread with its own reader connection to the
// store, so neither TLS nor rendering runs on ergwd's main loop, and no read
// waits for an apply.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "common/result.h"
#include "gateway/api/request_handler.h"
#include "gateway/api/tls_context.h"

namespace ergw::api {

struct ApiServerOptions {
  std::string listen;       // "address:port" ("[::]:8443"); empty: no HTTPS
  std::string unix_socket;  // path; empty: none
  TlsOptions tls;
  std::string store_path;   // the store, opened again read-only for this thread
  size_t max_sessions = 256;
};

class ApiServer {
 public:
  ApiServer(ApiServerOptions options, HandlerContext context);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds, then serves on its own thread. `context` needs no api_executor or
  // reader: the server provides both.
  Status start();
  void stop();
  // The bound HTTPS port (for listen ports given as 0).
  uint16_t port() const { return port_; }
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  struct Listeners;
  ApiServerOptions options_;
  HandlerContext context_;
  boost::asio::io_context io_;
  std::unique_ptr<store::Database> reader_;
  std::unique_ptr<RequestHandler> handler_;
  std::unique_ptr<Listeners> listeners_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::string fingerprint_;
};

// "192.0.2.1:8443", "[2001:db8::1]:8443", "0.0.0.0:8443".
Result<std::pair<std::string, uint16_t>> parse_listen_address(const std::string& text);

}  // namespace ergw::api
