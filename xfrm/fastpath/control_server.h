// The fast path's control socket: a unix stream socket speaking the
// ergw-ipsec protocol (docs/ipsec-protocol.md), served on the main thread's
// Boost.Asio io_context. Any number of clients (the charon plugin's request
// and event connections, ergwd's status queries); events go to every client
// that subscribed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "xfrm/fastpath/control_handler.h"

namespace ergw::xfrm::fastpath {

class ControlServer {
 public:
  // Binds `path` (a stale socket file is replaced), mode 0600.
  static Result<std::unique_ptr<ControlServer>> create(boost::asio::io_context& io, const std::string& path,
                                                       ControlHandler& handler);
  ~ControlServer();

  void broadcast(const std::vector<uint8_t>& event);
  size_t clients() const { return sessions_.size(); }

 private:
  class Session;
  ControlServer(boost::asio::io_context& io, ControlHandler& handler, std::string path);
  void accept();

  boost::asio::local::stream_protocol::acceptor acceptor_;
  ControlHandler& handler_;
  std::string path_;
  std::set<std::shared_ptr<Session>> sessions_;
};

}  // namespace ergw::xfrm::fastpath
