// One strongSwan charon in a lab namespace, with kernel-libipsec as its data
// plane (this kernel has no ESP): it writes the instance's strongswan.conf,
// starts charon under the supervisor with a private /run, waits for its vici
// socket, and drives it with swanctl.
//
// kernel-libipsec facts that shape this (docs/lab.md): one TUN
// `ipsec0` per charon, ESP always in UDP/4500, no if_id. In 5.9.8 its route
// installer ignores charon.install_routes and puts `default dev ipsec0` into
// table 220 for 0.0.0.0/0 selectors; we move that table's rule behind `main`
// (routing_table_prio), so the routes the caller puts in main decide.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "host/process.h"
#include "lab/supervisor.h"

namespace ergw::lab {

// What carries a lab charon's ESP.
enum class CharonBackend {
  libipsec,    // strongSwan's kernel-libipsec (userspace ESP over ipsec0)
  kernel_esp,  // kernel-netlink programs XFRM (a kernel with ESP; tests/kernel boots one under qemu)
  ergw_ipsec,  // the ergw-ipsec plugin hands the SAs to ergw-fastpath (docs/charon-plugin.md)
};

struct CharonOptions {
  std::string name;                  // "appliance", "azure-gw": names files and the daemon
  std::string netns;
  std::filesystem::path dir;         // instance files: strongswan.conf, charon.vici, charon.log, ...
  int log_level = 1;                 // filelog default level (0..4)
  // Levels for single subsystems ("esp", "knl", ...) above or below the
  // default: "esp = 2" records each ESP packet libipsec drops for an SPI it
  // has no SA for, without the rest of charon at level 2.
  std::map<std::string, int> subsystem_log_levels;
  std::vector<std::string> extra_plugins;
  CharonBackend backend = CharonBackend::libipsec;
  // ergw_ipsec: the directory with the built libstrongswan-ergw-ipsec.so
  // (overlaid on charon's plugin directory in charon's own mount namespace,
  // nothing is installed) and the fast path's control socket.
  std::string ergw_ipsec_plugin_dir;
  std::string fastpath_socket;
  // Paths under /run the daemon must still see inside its private /run (the
  // lab's state directory when it lives in /run), and where to assemble it.
  std::vector<std::string> keep_visible;
  std::string staging_dir;
  std::string charon_path = "/usr/lib/ipsec/charon";
  std::chrono::milliseconds ready_timeout{15000};
};

// Plugins every lab charon loads (listed in docs/lab.md).
const std::vector<std::string>& default_charon_plugins();

class CharonInstance {
 public:
  CharonInstance(CharonOptions options, Supervisor& supervisor);

  std::string daemon_name() const { return "charon-" + options_.name; }
  std::filesystem::path conf_path() const { return options_.dir / "strongswan.conf"; }
  std::filesystem::path vici_socket() const { return options_.dir / "charon.vici"; }
  std::string vici_uri() const { return "unix://" + vici_socket().string(); }
  std::filesystem::path log_path() const { return options_.dir / "charon.log"; }       // charon's filelog
  std::filesystem::path output_path() const { return options_.dir / "charon.out"; }    // stdout/stderr + supervisor
  const CharonOptions& options() const { return options_; }

  // The strongswan.conf this instance runs with.
  std::string render_strongswan_conf() const;

  // Writes the configuration, starts charon under supervision and waits until
  // vici answers.
  Status start();
  // Polls `swanctl --stats` until it answers, failing early if charon is gone.
  Status wait_ready() const;
  std::optional<pid_t> pid() const { return supervisor_.pid(daemon_name()); }

  // `swanctl ARGS... --uri <this instance>`; stderr noise from swanctl's own
  // plugin loader is kept out by a minimal swanctl strongswan.conf.
  host::CommandResult swanctl(const std::vector<std::string>& args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  Status load_all(const std::filesystem::path& swanctl_conf) const;
  Status initiate_child(const std::string& child, std::chrono::seconds timeout = std::chrono::seconds(20)) const;
  Status terminate_ike(const std::string& ike) const;
  // `swanctl --list-sas` text (for humans and simple checks).
  Result<std::string> list_sas() const;

 private:
  std::filesystem::path swanctl_conf_path() const { return options_.dir / "swanctl-strongswan.conf"; }
  Status write_files() const;

  CharonOptions options_;
  Supervisor& supervisor_;
};

}  // namespace ergw::lab
