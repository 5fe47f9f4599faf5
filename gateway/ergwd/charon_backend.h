// CharonBackend: keeps the running charon's IPsec backend the data plane's.
//
// charon loads its plugins, and reads the settings of its kernel-ipsec
// backend (the ergw-ipsec plugin's socket, kernel-libipsec's routing table),
// only when it starts; `reload-settings` does not change them. So when
//   - what charon loaded does not fit the data plane (vici `stats` lists its
//     plugins: the fast path needs ergw-ipsec and never kernel-libipsec,
//     libipsec needs kernel-libipsec, the kernel neither), or
//   - the start-time part of the settings ergwd writes changed while charon
//     ran (the data plane switched by a reload),
// ergwd has charon restarted with the restart command (by default
// `systemctl restart strongswan.service`), once per change: a charon that
// still does not fit after it is reported in status, never restarted in a
// loop. Without a command the status says to restart charon.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gateway/ergwd/data_plane.h"
#include "host/child_process.h"
#include "vici/client.h"

namespace ergw::gateway {

// "" when charon's plugins fit the data plane, else what is wrong and what to do.
std::string charon_backend_problem(DataPlaneKind kind, const std::vector<std::string>& plugins);

class CharonBackend {
 public:
  // `restart_command` runs with /bin/sh -c; empty: never restart charon.
  CharonBackend(vici::Client& charon, host::Launcher& launcher, std::string restart_command);

  // After the settings were written: the data plane and the part of the
  // settings charon reads only at start.
  void configure(DataPlaneKind kind, const std::string& start_settings);
  // charon (re)connected: a new charon read the settings as they are now.
  void charon_connected();

  // For the status: what does not fit ("" when all is well), and how many
  // times ergwd had charon restarted.
  const std::string& problem() const { return problem_; }
  unsigned restarts() const { return restarts_; }

 private:
  void check();
  void restart(const std::string& why);

  vici::Client& charon_;
  host::Launcher& launcher_;
  std::string restart_command_;
  DataPlaneKind kind_ = DataPlaneKind::libipsec;
  std::string start_settings_;
  bool configured_ = false;
  bool stale_ = false;          // the running charon started with other start-time settings
  uint64_t generation_ = 0;     // of the start-time settings
  uint64_t restarted_for_ = 0;  // the generation a restart was asked for (0: none)
  unsigned restarts_ = 0;
  std::string problem_;
  std::unique_ptr<host::ChildProcess> command_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

 public:
  ~CharonBackend() { *alive_ = false; }
  CharonBackend(const CharonBackend&) = delete;
  CharonBackend& operator=(const CharonBackend&) = delete;
};

}  // namespace ergw::gateway
