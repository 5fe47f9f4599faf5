#include "routing/control_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ergw::routing {
namespace {

using Clock = std::chrono::steady_clock;

// BIRD reads requests into a 4096-byte buffer (CLI_RX_BUF_SIZE) and answers
// longer ones with "9000 Command too long".
constexpr size_t kMaxCommandLength = 4000;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until the deadline.
Status wait_for(int fd, short events, Clock::time_point deadline, const char* what) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return Status::success();
    if (n == 0) return Error{std::string("timed out waiting for BIRD ") + what};
    if (errno != EINTR) return Error{std::string("poll on BIRD control socket: ") + std::strerror(errno)};
  }
}

bool is_quotable_path(const std::string& path) {
  if (path.empty() || path.size() > 1024) return false;
  for (char c : path) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

}  // namespace

Result<ControlSocket> ControlSocket::connect(const std::string& path, Timeout timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return Error{"BIRD control socket path too long: " + path};
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  // A UNIX socket connect completes or fails at once (EAGAIN only when the
  // listen backlog is full; treated as a failure to retry later).
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    int saved = errno;
    ::close(fd);
    return Error{"cannot connect to BIRD control socket " + path + ": " + std::strerror(saved)};
  }
  ControlSocket socket(fd, timeout);
  auto greeting = socket.read_reply();
  if (!greeting.ok()) return Error{greeting.error()};
  if (greeting->final_code() != reply_code::kWelcome) {
    return Error{"unexpected BIRD greeting: " + greeting->text()};
  }
  socket.greeting_ = std::move(*greeting);
  return socket;
}

ControlSocket::ControlSocket(ControlSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      timeout_(other.timeout_),
      parser_(std::move(other.parser_)),
      greeting_(std::move(other.greeting_)) {}

ControlSocket& ControlSocket::operator=(ControlSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    timeout_ = other.timeout_;
    parser_ = std::move(other.parser_);
    greeting_ = std::move(other.greeting_);
  }
  return *this;
}

ControlSocket::~ControlSocket() { close(); }

void ControlSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<Reply> ControlSocket::command(std::string_view line) {
  if (fd_ < 0) return Error{"BIRD control socket is closed"};
  if (line.empty() || line.size() > kMaxCommandLength || line.find('\n') != std::string_view::npos ||
      line.find('\0') != std::string_view::npos) {
    return Error{"invalid BIRD command (empty, too long, or containing a newline)"};
  }
  std::string request(line);
  request += '\n';
  const auto deadline = Clock::now() + timeout_;
  size_t sent = 0;
  while (sent < request.size()) {
    if (auto status = wait_for(fd_, POLLOUT, deadline, "to accept a command"); !status.ok()) {
      close();
      return Error{status.error()};
    }
    ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      int saved = errno;
      close();
      return Error{std::string("write to BIRD control socket: ") + std::strerror(saved)};
    }
    sent += static_cast<size_t>(n);
  }
  return read_reply();
}

Result<Reply> ControlSocket::read_reply() {
  const auto deadline = Clock::now() + timeout_;
  char buffer[8192];
  for (;;) {
    if (auto reply = parser_.next()) return std::move(*reply);
    if (auto status = wait_for(fd_, POLLIN, deadline, "to reply"); !status.ok()) {
      close();
      return Error{status.error()};
    }
    ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      int saved = errno;
      close();
      return Error{n == 0 ? std::string("BIRD closed the control socket")
                          : std::string("read from BIRD control socket: ") + std::strerror(saved)};
    }
    if (auto status = parser_.feed(std::string_view(buffer, static_cast<size_t>(n))); !status.ok()) {
      close();
      return Error{status.error()};
    }
  }
}

Status check_config(ControlSocket& socket, const std::string& config_path) {
  if (!is_quotable_path(config_path)) return Error{"config path can not be quoted for BIRD: " + config_path};
  auto reply = socket.command("configure check \"" + config_path + "\"");
  if (!reply.ok()) return Error{reply.error()};
  if (reply->final_code() != reply_code::kConfigurationOk) {
    return Error{"BIRD refused " + config_path + ": " + reply->lines.back().text};
  }
  return Status::success();
}

Status configure(ControlSocket& socket, const std::string& config_path) {
  if (auto status = check_config(socket, config_path); !status.ok()) return status;
  auto reply = socket.command("configure \"" + config_path + "\"");
  if (!reply.ok()) return Error{reply.error()};
  switch (reply->final_code()) {
    case reply_code::kReconfigured:
    case reply_code::kReconfigurationInProgress:
    case reply_code::kNothingToDo:
      return Status::success();
    default:
      return Error{"BIRD did not reconfigure from " + config_path + ": " + reply->lines.back().text};
  }
}

}  // namespace ergw::routing
