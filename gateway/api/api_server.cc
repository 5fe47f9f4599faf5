#include "gateway/api/api_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "gateway/api/http_session.h"
#include "gateway/ergwd/log.h"
#include "gateway/store/store_file.h"

namespace ergw::api {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::local::stream_protocol;
using gateway::log_line;
using gateway::LogLevel;

using TlsStream = asio::ssl::stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<stream_protocol>;

Result<std::pair<std::string, uint16_t>> parse_listen_address(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find("]:");
    if (close == std::string::npos) return Error{"\"" + text + "\" is not [address]:port"};
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return Error{"\"" + text + "\" is not address:port"};
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) return Error{"\"" + host + "\" is not an IP address"};
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    return Error{"\"" + port + "\" is not a port"};
  }
  return std::make_pair(host, static_cast<uint16_t>(std::stoul(port)));
}

struct ApiServer::Listeners {
  std::unique_ptr<tcp::acceptor> https;
  std::unique_ptr<stream_protocol::acceptor> unix_socket;
  std::unique_ptr<asio::ssl::context> tls;
  size_t sessions = 0;
};

namespace {

// A TCP connection: TLS, or one plain answer telling the client so.
class TlsHandshake : public std::enable_shared_from_this<TlsHandshake> {
 public:
  TlsHandshake(tcp::socket socket, asio::ssl::context& tls, RequestHandler& handler, size_t& sessions)
      : stream_(std::move(socket)), tls_(tls), handler_(handler), sessions_(sessions) {}

  void start() {
    boost::system::error_code ec;
    const auto remote = stream_.socket().remote_endpoint(ec);
    peer_.transport = Peer::Transport::tls;
    peer_.address = ec ? "unknown" : remote.address().to_string();
    stream_.expires_after(std::chrono::seconds(10));
    beast::async_detect_ssl(stream_, buffer_, [self = shared_from_this()](beast::error_code e, bool is_tls) {
      if (e) return;
      if (!is_tls) return self->plain_http();
      self->handshake();
    });
  }

 private:
  void plain_http() {
    auto response = std::make_shared<Response>(http::status::bad_request, 11);
    response->set(http::field::server, "ergwd");
    response->set(http::field::content_type, "text/plain");
    response->set(http::field::connection, "close");
    response->body() = "This port speaks HTTPS only: use https://\n";
    response->prepare_payload();
    log_line(LogLevel::warning, "API: plain HTTP from " + peer_.address + " refused (HTTPS only)");
    http::async_write(stream_, *response, [self = shared_from_this(), response](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.socket().close(ignored);
    });
  }

  void handshake() {
    auto tls_stream = std::make_shared<TlsStream>(std::move(stream_), tls_);
    beast::get_lowest_layer(*tls_stream).expires_after(std::chrono::seconds(10));
    tls_stream->async_handshake(
        asio::ssl::stream_base::server, buffer_.data(),
        [self = shared_from_this(), tls_stream](beast::error_code ec, size_t used) {
          if (ec) {
            log_line(LogLevel::debug, "API: TLS handshake with " + self->peer_.address + " failed: " + ec.message());
            return;
          }
          self->buffer_.consume(used);
          if (X509* cert = SSL_get0_peer_certificate(tls_stream->native_handle())) {
            char subject[256];
            X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
            self->peer_.client_certificate = subject;
          }
          std::make_shared<HttpSession<TlsStream>>(std::move(*tls_stream), std::move(self->buffer_), self->peer_,
                                                   self->handler_, self->sessions_)
              ->start();
        });
  }

  beast::tcp_stream stream_;
  asio::ssl::context& tls_;
  RequestHandler& handler_;
  size_t& sessions_;
  beast::flat_buffer buffer_;
  Peer peer_;
};

template <class Acceptor, class OnSocket>
void accept_loop(Acceptor& acceptor, OnSocket on_socket) {
  acceptor.async_accept([&acceptor, on_socket](boost::system::error_code ec, typename Acceptor::protocol_type::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) on_socket(std::move(s));
    accept_loop(acceptor, on_socket);
  });
}

}  // namespace

ApiServer::ApiServer(ApiServerOptions options, HandlerContext context)
    : options_(std::move(options)), context_(std::move(context)), listeners_(std::make_unique<Listeners>()) {}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start() {
  auto reader = store::open_store_reader(options_.store_path);
  if (!reader) return Error{reader.error()};
  reader_ = std::move(reader.value());
  context_.api_executor = io_.get_executor();
  context_.reader = reader_.get();
  handler_ = std::make_unique<RequestHandler>(context_);

  if (!options_.listen.empty()) {
    auto address = parse_listen_address(options_.listen);
    if (!address) return Error{"--api-listen: " + address.error()};
    auto tls = make_tls_context(options_.tls);
    if (!tls) return Error{tls.error()};
    listeners_->tls = std::move(tls->context);
    fingerprint_ = tls->fingerprint;
    if (tls->generated) {
      log_line(LogLevel::info, "API: generated a self-signed certificate " + options_.tls.certificate_file);
    }
    log_line(LogLevel::info, "API: certificate SHA-256 fingerprint " + fingerprint_);
    try {
      tcp::endpoint endpoint(asio::ip::make_address(address->first), address->second);
      listeners_->https = std::make_unique<tcp::acceptor>(io_);
      listeners_->https->open(endpoint.protocol());
      listeners_->https->set_option(asio::socket_base::reuse_address(true));
      if (endpoint.address().is_v6()) listeners_->https->set_option(asio::ip::v6_only(false));
      listeners_->https->bind(endpoint);
      listeners_->https->listen();
      port_ = listeners_->https->local_endpoint().port();
    } catch (const boost::system::system_error& e) {
      return Error{"API: cannot listen on " + options_.listen + ": " + e.what()};
    }
    auto* listeners = listeners_.get();
    auto* handler = handler_.get();
    const size_t limit = options_.max_sessions;
    accept_loop(*listeners_->https, [listeners, handler, limit](tcp::socket socket) {
      if (listeners->sessions >= limit) return;  // closed by going out of scope
      std::make_shared<TlsHandshake>(std::move(socket), *listeners->tls, *handler, listeners->sessions)->start();
    });
  }

  if (!options_.unix_socket.empty()) {
    std::error_code fs;
    std::filesystem::create_directories(std::filesystem::path(options_.unix_socket).parent_path(), fs);
    ::unlink(options_.unix_socket.c_str());
    try {
      const mode_t old_mask = ::umask(077);  // root only; the peer's uid is checked too
      listeners_->unix_socket =
          std::make_unique<stream_protocol::acceptor>(io_, stream_protocol::endpoint(options_.unix_socket));
      ::umask(old_mask);
      ::chmod(options_.unix_socket.c_str(), 0600);
    } catch (const boost::system::system_error& e) {
      return Error{"API: cannot listen on " + options_.unix_socket + ": " + e.what()};
    }
    auto* listeners = listeners_.get();
    auto* handler = handler_.get();
    const size_t limit = options_.max_sessions;
    accept_loop(*listeners_->unix_socket, [listeners, handler, limit](stream_protocol::socket socket) {
      if (listeners->sessions >= limit) return;
      Peer peer;
      peer.transport = Peer::Transport::unix_socket;
      peer.address = "local";
      ucred credentials{};
      socklen_t size = sizeof(credentials);
      if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) {
        peer.uid = credentials.uid;
      }
      std::make_shared<HttpSession<UnixStream>>(UnixStream(std::move(socket)), beast::flat_buffer(), peer, *handler,
                                                listeners->sessions)
          ->start();
    });
  }
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
  return Status::success();
}

void ApiServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    if (listeners_->https) listeners_->https->close(ignored);
    if (listeners_->unix_socket) listeners_->unix_socket->close(ignored);
    io_.stop();
  });
  thread_.join();
  if (!options_.unix_socket.empty()) ::unlink(options_.unix_socket.c_str());
}

}  // namespace ergw::api
