#include "xfrm/fastpath/control_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <deque>

#include "xfrm/control/message.h"
#include "xfrm/control/protocol.h"

namespace ergw::xfrm::fastpath {

namespace asio = boost::asio;
using asio::local::stream_protocol;

class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ControlServer& server, stream_protocol::socket socket) : server_(server), socket_(std::move(socket)) {}

  void start() { read_header(); }
  void send(std::vector<uint8_t> message) {
    const bool idle = queue_.empty();
    queue_.push_back(std::move(message));
    if (idle) write_next();
  }
  bool subscribed() const { return state_.subscribed; }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void read_header() {
    auto self = shared_from_this();
    buffer_.resize(4);
    asio::async_read(socket_, asio::buffer(buffer_), [this, self](boost::system::error_code ec, size_t) {
      if (ec) return finish();
      const uint32_t length = control::peek_message_length(std::span<const uint8_t, 4>(buffer_.data(), 4));
      if (length < ERGW_IPSEC_HEADER_BYTES || length > ERGW_IPSEC_MAX_MESSAGE) {
        // The stream cannot be resynchronised: answer once and hang up.
        send(control::MessageWriter(0, 0, ERGW_IPSEC_E_INVALID)
                 .text(ERGW_IPSEC_ATTR_ERROR_TEXT, "message length " + std::to_string(length) +
                                                       " outside 16-65536; closing")
                 .finish());
        closing_ = true;
        return;
      }
      buffer_.resize(length);
      read_body();
    });
  }
  void read_body() {
    auto self = shared_from_this();
    asio::async_read(socket_, asio::buffer(buffer_.data() + 4, buffer_.size() - 4),
                     [this, self](boost::system::error_code ec, size_t) {
                       if (ec) return finish();
                       std::vector<uint8_t> reply = server_.handler_.handle(buffer_, state_);
                       // Requests may carry keys: wipe the buffer before reuse.
                       std::fill(buffer_.begin(), buffer_.end(), uint8_t{0});
                       if (!reply.empty()) send(std::move(reply));
                       read_header();
                     });
  }
  void write_next() {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(queue_.front()), [this, self](boost::system::error_code ec, size_t) {
      if (ec) return finish();
      queue_.pop_front();
      if (!queue_.empty()) return write_next();
      if (closing_) finish();
    });
  }
  void finish() {
    close();
    server_.sessions_.erase(shared_from_this());
  }

  ControlServer& server_;
  stream_protocol::socket socket_;
  std::vector<uint8_t> buffer_;
  std::deque<std::vector<uint8_t>> queue_;
  ControlSession state_;
  bool closing_ = false;
};

ControlServer::ControlServer(asio::io_context& io, ControlHandler& handler, std::string path)
    : acceptor_(io), handler_(handler), path_(std::move(path)) {}

Result<std::unique_ptr<ControlServer>> ControlServer::create(asio::io_context& io, const std::string& path,
                                                             ControlHandler& handler) {
  std::unique_ptr<ControlServer> server(new ControlServer(io, handler, path));
  ::unlink(path.c_str());
  boost::system::error_code ec;
  server->acceptor_.open(stream_protocol(), ec);
  if (!ec) {
    // Only root (charon, ergwd) may talk to the fast path: it takes keys.
    const mode_t old = ::umask(0177);
    server->acceptor_.bind(stream_protocol::endpoint(path), ec);
    ::umask(old);
  }
  if (!ec) server->acceptor_.listen(16, ec);
  if (ec) return Error{"control socket " + path + ": " + ec.message()};
  server->accept();
  return server;
}

ControlServer::~ControlServer() {
  for (const auto& session : sessions_) session->close();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  ::unlink(path_.c_str());
}

void ControlServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, stream_protocol::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      auto session = std::make_shared<Session>(*this, std::move(socket));
      sessions_.insert(session);
      session->start();
    }
    accept();
  });
}

void ControlServer::broadcast(const std::vector<uint8_t>& event) {
  for (const auto& session : sessions_) {
    if (session->subscribed()) session->send(event);
  }
}

}  // namespace ergw::xfrm::fastpath
