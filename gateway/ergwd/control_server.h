// ergwd's local control socket: one JSON request per line, one JSON reply per
// line. Commands: {"command": "status"}, {"command": "reload"}. Deliberately
// small: the REST API replaces it for everything beyond ergw's own CLI.
// The socket is created mode 0660 (root and the ergw group).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

#include "common/result.h"

namespace ergw::gateway {

class ControlServer {
 public:
  using Reply = std::function<void(nlohmann::json)>;
  using Handler = std::function<void(const nlohmann::json& request, Reply reply)>;

  ControlServer(boost::asio::io_context& io, std::string path, Handler handler);
  ~ControlServer();
  Status start();

 private:
  void accept();
  boost::asio::io_context& io_;
  std::string path_;
  Handler handler_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
};

}  // namespace ergw::gateway
