// MssClamp: TCP MSS clamping of the TCP ergw forwards into and out of each
// tunnel device, with nftables, in a table of ergw's own (`table inet
// ergw_mss`, a forward chain at the mangle priority). Azure fragments neither
// ESP nor what it carries and asks peers to clamp TCP MSS at 1350 (or set the
// tunnel MTU to 1400); the tunnel MTU (tunnel_mtu.h) makes larger packets fail
// cleanly with ICMP "fragmentation needed", the clamp keeps TCP from sending
// them at all, also for senders whose ICMP is filtered (a PMTUD black hole).
//
// Per device, the smallest MSS of its connections: a connection's tcpMss when
// set (0: no clamp for it), else Azure's 1350, or the device's MTU minus 40
// (IPv4 and TCP headers) when that is smaller. The whole table is replaced in
// one nft transaction whenever the plan changes (never when it does not); it
// stays when ergwd stops, as the tunnels do. Devices are matched by name, so a device that
// charon or the fast path makes later is clamped from its first packet.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/ergwd/connection_plan.h"
#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/tunnel_mtu.h"
#include "host/child_process.h"

namespace ergw::gateway {

inline constexpr const char* kMssClampTable = "ergw_mss";

struct DeviceMss {
  std::string device;
  int mss = 0;
  std::string connection;  // the connection that needs the smallest
  std::string why;         // "tcpMss 1300" / "Azure's 1350" / "ergwfp0 MTU 1380 - 40"
  bool operator==(const DeviceMss&) const = default;
};

// The MSS of each tunnel device for these connections, with the devices' MTUs
// where known. Kernel XFRM policy-based connections have no device and are not
// clamped (their traffic is matched by policy, not by an interface).
std::vector<DeviceMss> plan_mss_clamps(DataPlaneKind kind, const std::vector<ConnectionPlan>& plans,
                                       const std::vector<DeviceMtu>& mtus);

// The nft script that replaces ergw's table with these clamps (or, with
// none, deletes it), atomically: `nft -f` applies a file as one transaction.
std::string render_mss_ruleset(const std::vector<DeviceMss>& clamps);

struct MssClampOptions {
  std::string nft = "nft";
  std::string script_file;  // where the script is written for `nft -f`
  std::string log_file;     // nft's output, read back for the error
};

class MssClamp {
 public:
  MssClamp(host::Launcher& launcher, MssClampOptions options);
  ~MssClamp();
  MssClamp(const MssClamp&) = delete;
  MssClamp& operator=(const MssClamp&) = delete;

  // Installs these clamps when they differ from what is installed (or being
  // installed); asynchronous, one nft at a time.
  void set(std::vector<DeviceMss> clamps);
  // data_plane.mss_clamp of the status: per device and connection what is
  // clamped, and nft's error when it refused.
  nlohmann::json report(DataPlaneKind kind, const std::vector<ConnectionPlan>& plans) const;

 private:
  void run_next();

  host::Launcher& launcher_;
  MssClampOptions options_;
  std::vector<DeviceMss> wanted_;
  std::vector<DeviceMss> installed_;
  std::vector<DeviceMss> running_;  // being installed by the nft that runs
  std::unique_ptr<host::ChildProcess> nft_;
  bool checked_ = false;  // nft has run once: installed_ is what the kernel has
  std::string error_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::gateway
