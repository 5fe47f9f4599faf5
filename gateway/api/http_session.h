// One HTTP/1.1 client connection: read a request (bounded in size and time),
// let the RequestHandler answer, write, and keep the connection for the next
// request while the client wants it. Stream is a TLS stream over TCP or a
// unix socket stream; one request is in flight at a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/crypto.h>

#include "gateway/api/http_types.h"
#include "gateway/api/problem.h"
#include "gateway/api/request_handler.h"

namespace ergw::api {

inline constexpr std::chrono::seconds kRequestTimeout{30};
inline constexpr std::chrono::seconds kIdleTimeout{60};

// Counts open sessions (API thread only); a session holds one for its life.
class SessionCount {
 public:
  explicit SessionCount(size_t& count) : count_(count) { ++count_; }
  ~SessionCount() { --count_; }
  SessionCount(const SessionCount&) = delete;
  SessionCount& operator=(const SessionCount&) = delete;

 private:
  size_t& count_;
};

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream stream, boost::beast::flat_buffer buffer, Peer peer, RequestHandler& handler, size_t& sessions)
      : stream_(std::move(stream)),
        buffer_(std::move(buffer)),
        peer_(std::move(peer)),
        handler_(handler),
        count_(sessions) {}

  void start() { read(); }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, std::decay_t<decltype(boost::beast::get_lowest_layer(
                                                           std::declval<Stream&>()))>>;

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(kMaxHeaderBytes);
    boost::beast::get_lowest_layer(stream_).expires_after(first_ ? kRequestTimeout : kIdleTimeout);
    first_ = false;
    boost::beast::http::async_read(stream_, buffer_, *parser_,
                                   [self = this->shared_from_this()](boost::beast::error_code ec, size_t) {
                                     self->on_read(ec);
                                   });
  }

  void on_read(boost::beast::error_code ec) {
    namespace http = boost::beast::http;
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof || ec == boost::beast::error::timeout ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset) {
      return close();
    }
    if (ec == http::error::body_limit) return refuse(413, "the body is too large (at most 8 MiB)");
    if (ec == http::error::header_limit) return refuse(431, "the request's header is too large (at most 16 KiB)");
    if (ec) {
      // Anything else the parser refused: a malformed request.
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) return refuse(400, "malformed HTTP request");
      return close();
    }
    Request request = parser_->release();
    handler_.handle(request, peer_, [self = this->shared_from_this()](Response response) {
      self->write(std::move(response));
    });
    // The body may hold a PSK (PUT .../sharedkey): do not leave it in freed memory.
    OPENSSL_cleanse(request.body().data(), request.body().size());
  }

  void refuse(int status, const std::string& detail) {
    Response r{static_cast<boost::beast::http::status>(status), 11};
    r.set(boost::beast::http::field::server, "ergwd");
    r.set(boost::beast::http::field::content_type, "application/problem+json");
    r.body() = problem(status, "bad-request", "request refused", detail).dump() + "\n";
    r.keep_alive(false);
    r.prepare_payload();
    write(std::move(r));
  }

  void write(Response response) {
    response_ = std::move(response);
    boost::beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
    boost::beast::http::async_write(stream_, response_,
                                    [self = this->shared_from_this()](boost::beast::error_code ec, size_t) {
                                      if (ec || !self->response_.keep_alive()) return self->close();
                                      self->read();
                                    });
  }

  void close() {
    if constexpr (kTls) {
      boost::beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](boost::beast::error_code) {
        boost::beast::error_code ignored;
        boost::beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      boost::beast::error_code ignored;
      stream_.socket().shutdown(boost::asio::socket_base::shutdown_both, ignored);
      stream_.socket().close(ignored);
    }
  }

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  Peer peer_;
  RequestHandler& handler_;
  SessionCount count_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Response response_;
  bool first_ = true;
};

}  // namespace ergw::api
