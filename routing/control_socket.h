// A client of BIRD's control socket (a UNIX stream socket, BIRD -s PATH):
// one request line, one framed reply (routing/reply.h). Blocking with a
// deadline on every call, so a stuck BIRD can never hang ergw.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"
#include "routing/reply.h"

namespace ergw::routing {

class ControlSocket {
 public:
  using Timeout = std::chrono::milliseconds;
  static constexpr Timeout kDefaultTimeout{10000};

  // Connects and reads BIRD's greeting ("0001 BIRD 2.0.12 ready.").
  static Result<ControlSocket> connect(const std::string& path, Timeout timeout = kDefaultTimeout);

  ControlSocket(ControlSocket&& other) noexcept;
  ControlSocket& operator=(ControlSocket&& other) noexcept;
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;
  ~ControlSocket();

  // Sends one command and returns its reply, error replies (8xxx/9xxx)
  // included: they are BIRD's answer, not a failure of the transport.
  // Transport failures and timeouts are errors; after one the socket is closed.
  Result<Reply> command(std::string_view line);

  const Reply& greeting() const { return greeting_; }
  void set_timeout(Timeout timeout) { timeout_ = timeout; }

 private:
  ControlSocket(int fd, Timeout timeout) : fd_(fd), timeout_(timeout) {}
  Result<Reply> read_reply();
  void close();

  int fd_ = -1;
  Timeout timeout_;
  ReplyParser parser_;
  Reply greeting_;
};

// `configure check "path"` then `configure "path"`, never a restart. A
// refused check leaves BIRD's running configuration untouched and returns
// BIRD's message (file:line:column and reason).
Status configure(ControlSocket& socket, const std::string& config_path);
// Only `configure check "path"`.
Status check_config(ControlSocket& socket, const std::string& config_path);

}  // namespace ergw::routing
