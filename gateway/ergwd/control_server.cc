#include "gateway/ergwd/control_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <boost/asio/read_until.hpp>
#include "common/parse_json.h"
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace ergw::gateway {

using boost::asio::local::stream_protocol;

namespace {

// One client: read a line (bounded), answer, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(stream_protocol::socket socket, ControlServer::Handler& handler)
      : socket_(std::move(socket)), buffer_(64 * 1024), handler_(handler) {}

  void start() {
    auto self = shared_from_this();
    boost::asio::async_read_until(socket_, buffer_, '\n', [self](boost::system::error_code ec, size_t) {
      if (ec) return;
      std::istream in(&self->buffer_);
      std::string line;
      std::getline(in, line);
      auto request = parse_json(line);
      if (!request || !request->is_object()) {
        self->reply({{"error", "the request must be one JSON object on one line"}});
        return;
      }
      self->handler_(*request, [self](nlohmann::json answer) { self->reply(std::move(answer)); });
    });
  }

 private:
  void reply(nlohmann::json answer) {
    auto text = std::make_shared<std::string>(answer.dump() + "\n");
    auto self = shared_from_this();
    boost::asio::async_write(socket_, boost::asio::buffer(*text),
                             [self, text](boost::system::error_code, size_t) { self->socket_.close(); });
  }

  stream_protocol::socket socket_;
  boost::asio::streambuf buffer_;
  ControlServer::Handler& handler_;
};

}  // namespace

ControlServer::ControlServer(boost::asio::io_context& io, std::string path, Handler handler)
    : io_(io), path_(std::move(path)), handler_(std::move(handler)) {}

ControlServer::~ControlServer() {
  if (acceptor_) ::unlink(path_.c_str());
}

Status ControlServer::start() {
  std::error_code fs_error;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), fs_error);
  ::unlink(path_.c_str());
  try {
    const mode_t old_mask = ::umask(007);
    acceptor_ = std::make_unique<stream_protocol::acceptor>(io_, stream_protocol::endpoint(path_));
    ::umask(old_mask);
  } catch (const boost::system::system_error& e) {
    return Error{"control socket " + path_ + ": " + e.what()};
  }
  accept();
  return Status::success();
}

void ControlServer::accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, stream_protocol::socket socket) {
    if (ec) return;
    std::make_shared<Session>(std::move(socket), handler_)->start();
    accept();
  });
}

}  // namespace ergw::gateway
