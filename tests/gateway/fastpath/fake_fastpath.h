// FakeFastpath: the fast path's control socket as ergwd sees it, served on
// the test's io_context: HELLO (with an instance number that is new for each
// start), STATUS (a document the test sets), ADD_ROUTE/DEL_ROUTE (recorded).
// It can stop answering (as under SIGSTOP) and go away (as on SIGKILL).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

#include "common/ip_prefix.h"

namespace ergw::gateway::testing {

class FakeFastpath {
 public:
  FakeFastpath(boost::asio::io_context& io, std::string path);
  ~FakeFastpath();

  void start();  // listens; a new instance number
  void stop();   // closes everything and removes the socket (the process died)
  bool listening() const { return acceptor_ != nullptr; }
  void set_answering(bool answering) { answering_ = answering; }
  void set_status(nlohmann::json status) { status_ = std::move(status); }

  uint64_t instance() const { return instance_; }
  // prefix -> if_id, as ADD_ROUTE/DEL_ROUTE left them in this instance.
  const std::map<std::string, uint32_t>& routes() const { return routes_; }
  int hellos() const { return hellos_; }

 private:
  struct Session;
  void accept();
  void read(std::shared_ptr<Session> session);
  std::vector<uint8_t> answer(const std::vector<uint8_t>& request);

  boost::asio::io_context& io_;
  std::string path_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  std::set<std::shared_ptr<Session>> sessions_;
  bool answering_ = true;
  uint64_t instance_ = 0;
  nlohmann::json status_ = {{"ready", true}, {"connections", nlohmann::json::array()}};
  std::map<std::string, uint32_t> routes_;
  int hellos_ = 0;
};

}  // namespace ergw::gateway::testing
