// BirdConnection: blocking access to a BIRD control socket for code that is
// not an event loop: the lab, tools and tests. Each call runs the
// asynchronous BirdClient on a private io_context until the reply (or the
// client's own timeout), so there is one implementation of the protocol.
// Never use it inside ergwd's loop: that is what BirdClient is for.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "routing/bird_client.h"
#include "routing/bird_commands.h"

namespace ergw::routing {

class BirdConnection {
 public:
  explicit BirdConnection(const std::string& socket_path, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~BirdConnection();
  BirdConnection(const BirdConnection&) = delete;
  BirdConnection& operator=(const BirdConnection&) = delete;

  Result<Reply> command(const std::string& line);
  Result<std::vector<ProtocolStatus>> protocols(const std::string& pattern = "");
  Result<std::vector<Route>> routes(const RouteQuery& query);
  Result<DaemonStatus> status();
  Status switch_protocol(const std::string& protocol, ProtocolSwitch change);
  ConfigOutcome install_config(const std::string& config_path, const std::string& text,
                               const std::optional<FileOwner>& owner = std::nullopt);
  // Asks until BIRD answers (it may still be starting) or `timeout` passes.
  Status wait_until_answering(std::chrono::milliseconds timeout);

 private:
  template <typename T, typename Start>
  T run(Start start);

  boost::asio::io_context io_;
  std::unique_ptr<Clock> clock_;
  BirdClient client_;
};

}  // namespace ergw::routing
