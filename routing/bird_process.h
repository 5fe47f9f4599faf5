// Runs one BIRD daemon with its own config, control socket and pid file
// (`bird -f -c CONF -s SOCK -P PID`), optionally inside a named network
// namespace, and applies configuration changes to it over the control socket
// (`configure check` then `configure`), never by restarting it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "routing/bird_config_writer.h"
#include "routing/control_socket.h"

namespace ergw::routing {

struct BirdProcessOptions {
  std::string bird_binary = "/usr/sbin/bird";
  std::string config_path;
  std::string socket_path;
  std::string pid_path;
  // A namespace under /run/netns (as `ip netns add` makes); empty: ours.
  std::string network_namespace;
  // Where BIRD's stdout and stderr go; empty: /dev/null.
  std::string output_path;
  // e.g. {"-u", "bird", "-g", "bird"} in production.
  std::vector<std::string> extra_arguments;
  // How long BIRD may take to open its control socket.
  std::chrono::milliseconds start_timeout{10000};
};

class BirdProcess {
 public:
  // Starts BIRD in the foreground (-f) as our child, so ergw supervises it
  // directly (exit status, no pid-file races), and waits until its control
  // socket greets. On failure nothing is left running.
  static Result<BirdProcess> start(const BirdProcessOptions& options);

  BirdProcess(BirdProcess&& other) noexcept;
  BirdProcess& operator=(BirdProcess&& other) noexcept;
  BirdProcess(const BirdProcess&) = delete;
  BirdProcess& operator=(const BirdProcess&) = delete;
  // Stops BIRD if it still runs.
  ~BirdProcess();

  pid_t pid() const { return pid_; }
  const BirdProcessOptions& options() const { return options_; }
  // False once BIRD has exited (it is reaped here).
  bool running();
  // SIGTERM, then SIGKILL after `grace`; reaps the child.
  Status stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // SIGKILL and reap: a crash, as tests need it.
  void kill();

  Result<ControlSocket> connect(ControlSocket::Timeout timeout = ControlSocket::kDefaultTimeout) const;

 private:
  BirdProcess(BirdProcessOptions options, pid_t pid) : options_(std::move(options)), pid_(pid) {}
  bool reap(bool block);

  BirdProcessOptions options_;
  pid_t pid_ = -1;
};

// Replaces the configuration of a running BIRD: writes `text` (mode 0600)
// beside `config_path` as "<config_path>.new", has BIRD check it, and only if
// BIRD accepts it renames it over `config_path` and runs `configure`. If the
// check fails, `config_path` and the running configuration stay as they were
// and the error carries BIRD's message. `config_path` must be the file BIRD
// was started with (-c), so a restarted BIRD comes back with the last good
// configuration.
// With `owner`, the file is given to BIRD's user (see FileOwner).
Status install_config(ControlSocket& socket, const std::string& config_path, const std::string& text,
                      const std::optional<FileOwner>& owner = std::nullopt);

}  // namespace ergw::routing
