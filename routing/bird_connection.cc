#include "routing/bird_connection.h"

#include <thread>

namespace ergw::routing {
namespace {

BirdClientOptions options_for(const std::string& socket_path, std::chrono::milliseconds timeout) {
  BirdClientOptions o;
  o.socket_path = socket_path;
  o.connect_timeout = timeout;
  o.command_timeout = timeout;
  return o;
}

}  // namespace

BirdConnection::BirdConnection(const std::string& socket_path, std::chrono::milliseconds timeout)
    : clock_(make_steady_clock(io_.get_executor())),
      client_(io_.get_executor(), *clock_, options_for(socket_path, timeout)) {}

BirdConnection::~BirdConnection() = default;

template <typename T, typename Start>
T BirdConnection::run(Start start) {
  std::optional<T> out;
  start([&out](T value) { out.emplace(std::move(value)); });
  io_.restart();
  // The client's own timeouts bound this: every command completes.
  while (!out && io_.run_one() > 0) {
  }
  if (!out) return T(Error{"BIRD control socket: the client stopped without a reply"});
  return std::move(*out);
}

Result<Reply> BirdConnection::command(const std::string& line) {
  return run<Result<Reply>>([&](auto done) { client_.command(line, done); });
}

Result<std::vector<ProtocolStatus>> BirdConnection::protocols(const std::string& pattern) {
  return run<Result<std::vector<ProtocolStatus>>>([&](auto done) { query_protocols(client_, pattern, done); });
}

Result<std::vector<Route>> BirdConnection::routes(const RouteQuery& query) {
  return run<Result<std::vector<Route>>>([&](auto done) { query_routes(client_, query, done); });
}

Result<DaemonStatus> BirdConnection::status() {
  return run<Result<DaemonStatus>>([&](auto done) { query_status(client_, done); });
}

Status BirdConnection::switch_protocol(const std::string& protocol, ProtocolSwitch change) {
  return run<Status>([&](auto done) { routing::switch_protocol(client_, protocol, change, done); });
}

ConfigOutcome BirdConnection::install_config(const std::string& config_path, const std::string& text,
                                             const std::optional<FileOwner>& owner) {
  std::optional<ConfigOutcome> out;
  routing::install_config(client_, config_path, text, owner, [&out](ConfigOutcome o) { out = std::move(o); });
  io_.restart();
  while (!out && io_.run_one() > 0) {
  }
  return out.value_or(ConfigOutcome{ConfigVerdict::bird_not_answering, "the client stopped without a reply"});
}

Status BirdConnection::wait_until_answering(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto answer = status();
    if (answer) return Status::success();
    if (std::chrono::steady_clock::now() >= deadline) return Error{answer.error()};
    // A tool outside any event loop may sleep between tries.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace ergw::routing
