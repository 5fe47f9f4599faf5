// FastpathConnection: ergwd's asynchronous client of ergw-fastpath's control
// socket (docs/ipsec-protocol.md). One unix stream connection, one request at
// a time, each bounded by a deadline; nothing waits in the event loop. A
// request that is not answered in time closes the connection and fails every
// queued request (a stopped or hung fast path), and so does a connection the
// fast path closes (it exited). Callbacks always run on the executor, never
// inside the call that caused them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "xfrm/control/message.h"

namespace ergw::gateway {

// A reply, owning the bytes its reader views.
struct FastpathReply {
  std::vector<uint8_t> bytes;
  xfrm::control::MessageReader reader() const;  // bytes were validated on arrival
};

class FastpathConnection {
 public:
  using Done = std::function<void(Status)>;
  using ReplyHandler = std::function<void(Result<FastpathReply>)>;

  FastpathConnection(boost::asio::any_io_executor executor, ergw::Clock& clock, std::string socket_path,
                     std::chrono::milliseconds timeout);
  ~FastpathConnection();
  FastpathConnection(const FastpathConnection&) = delete;
  FastpathConnection& operator=(const FastpathConnection&) = delete;

  // Connects (closing any connection first); `done` says whether it worked.
  void connect(Done done);
  bool connected() const { return connected_; }
  // Queues a request built with `writer` (its sequence number is set here);
  // `done` gets the reply, or an error when none came within the timeout or
  // the connection went away. A reply with a non-zero status is an error
  // carrying the fast path's error text.
  void request(uint16_t type, std::function<void(xfrm::control::MessageWriter&)> fill, ReplyHandler done);
  // Called when a connection that was up goes away (not after close()).
  void on_lost(std::function<void(const std::string&)> handler) { on_lost_ = std::move(handler); }
  void close();

 private:
  struct Pending {
    std::vector<uint8_t> message;
    uint16_t type = 0;
    uint32_t sequence = 0;
    ReplyHandler done;
  };
  void send_next();
  void read_reply();
  void fail(const std::string& why);
  void post(std::function<void()> f);

  boost::asio::any_io_executor executor_;
  std::string path_;
  std::chrono::milliseconds timeout_;
  boost::asio::local::stream_protocol::socket socket_;
  std::unique_ptr<ergw::Timer> deadline_;
  std::deque<Pending> queue_;
  bool in_flight_ = false;
  bool connected_ = false;
  uint32_t next_sequence_ = 1;
  uint64_t generation_ = 0;  // bumped by close(): late completions of an old socket are ignored
  std::vector<uint8_t> header_;
  std::vector<uint8_t> body_;
  std::function<void(const std::string&)> on_lost_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::gateway
