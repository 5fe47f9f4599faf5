// BirdClient: the asynchronous client of BIRD's control socket (a unix
// stream socket, `bird -s PATH`), on Boost.Asio, so that ergwd's event loop
// never waits for BIRD.
//
// BIRD's CLI answers one request line with one framed reply (reply.h) and
// handles a connection's requests in order, so the client keeps one
// connection and runs one command at a time; further commands wait in a
// queue. It connects when there is work: a first command, or the first one
// after the connection broke. Connecting includes BIRD's greeting
// ("0001 BIRD 2.0.12 ready.").
//
// Every command ends: with BIRD's reply (error replies 8xxx/9xxx included:
// they are BIRD's answer, not a failure of the transport), or with an error
// when BIRD is not running, does not greet within connect_timeout, does not
// answer within command_timeout (a stopped BIRD: SIGSTOP, a hung one), or
// closes the connection (BIRD restarted). After any of these the connection
// is closed, because a late reply could not be told from the next command's,
// and every command still queued fails with the same reason; the next command
// connects afresh. A command BIRD received before it stopped answering may
// still run when it comes back: callers re-send the state they want, they do
// not count on "not done".
//
// Callbacks run on the executor, never inside command(); none runs after the
// client is destroyed. Use a client from one thread (its executor's).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "routing/reply.h"

namespace ergw::routing {

struct BirdClientOptions {
  std::string socket_path;
  // From the connect to BIRD's greeting.
  std::chrono::milliseconds connect_timeout{2000};
  // From sending a command to the last line of its reply.
  std::chrono::milliseconds command_timeout{5000};
  // Commands queued beyond this fail at once (BIRD is not keeping up).
  std::size_t max_queued = 512;
};

class BirdClient {
 public:
  using ReplyCallback = std::function<void(Result<Reply>)>;

  BirdClient(boost::asio::any_io_executor executor, Clock& clock, BirdClientOptions options);
  ~BirdClient();  // pending callbacks are dropped, not called
  BirdClient(const BirdClient&) = delete;
  BirdClient& operator=(const BirdClient&) = delete;

  // Queues one request line (no newline; at most 4000 bytes, below BIRD's
  // 4096-byte buffer) and completes with its reply.
  void command(std::string line, ReplyCallback callback);
  // Completes `callback` with `reason` as an error, like a command that
  // failed (through the executor, never after destruction): for requests
  // refused before they reach BIRD.
  void reject(std::string reason, ReplyCallback callback);
  // Closes the connection and fails every queued command with `reason`
  // (BIRD is being restarted or stopped).
  void reset(const std::string& reason);

  bool connected() const;
  // The greeting's text of the current or last connection ("BIRD 2.0.12 ready.").
  const std::string& greeting() const;
  const std::string& socket_path() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ergw::routing
