// TunnelMtu: the MTU of each data plane's tunnel device, from the ESP overhead
// its tunnels negotiated (esp_overhead.h), so that no ESP packet is larger
// than the 1500 bytes of an ExpressRoute path and nothing fragments: a larger
// inner packet gets ICMP "fragmentation needed" from the appliance instead
// (TCP then lowers its segments, PMTUD), never a fragment Azure drops.
//
//  libipsec  ipsec0 (charon's kernel-libipsec TUN, created by charon with
//            1400): one device for every connection, so the smallest of them,
//            and never above 1400 (kLibipsecMaxMtu).
//  fastpath  ergwfp0 (ergw-fastpath's TUN, created with its worst case): the
//            same.
//  kernel    one xfrm interface per route-based connection (ergw<if_id>,
//            created with 1400); policy-based connections have none.
//
// A connection counts with its established CHILD SAs' transforms and their
// UDP encapsulation; until one is established, with the worst of its ESP
// proposals in UDP. The devices are checked when a CHILD SA comes up, is
// rekeyed or goes, when the configuration changes, and every 10 s (charon or
// the fast path may have made a device afresh).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "gateway/ergwd/connection_plan.h"
#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/esp_overhead.h"
#include "vici/client.h"
#include "vici/sa_info.h"

namespace ergw::gateway {

// The MTU of a network device of this namespace, by name.
class LinkMtu {
 public:
  virtual ~LinkMtu() = default;
  // nullopt: no such device (yet).
  virtual std::optional<int> get(const std::string& device) = 0;
  virtual Status set(const std::string& device, int mtu) = 0;
};
// SIOCGIFMTU / SIOCSIFMTU.
std::unique_ptr<LinkMtu> make_link_mtu();

// strongSwan 5.9.8's kernel-libipsec reads ipsec0 with a buffer the size of
// the MTU it gave the device when it made it (TUN_DEFAULT_MTU 1400 in
// kernel_libipsec_plugin.c; tun_device.c keeps that number and never asks
// again): a larger MTU would have it truncate every longer packet. So ergw
// only ever lowers ipsec0's MTU, when the ESP needs more room than 100 bytes.
inline constexpr int kLibipsecMaxMtu = 1400;

struct DeviceMtu {
  std::string device;
  int mtu = 0;
  std::string connection;  // the connection that needs the smallest
  std::string why;         // "AES_CBC_256/HMAC_SHA2_256_128 in UDP over IPv4, negotiated: 78 bytes of ESP"
  bool negotiated = false; // from an established CHILD SA, not the proposals
  bool operator==(const DeviceMtu&) const = default;
};

// The MTU each tunnel device needs for these connections and SAs.
std::vector<DeviceMtu> plan_tunnel_mtus(DataPlaneKind kind, const std::vector<ConnectionPlan>& plans,
                                        const std::vector<vici::IkeSaInfo>& sas, int path_mtu = kExpressRouteMtu);

// Each CHILD's ESP proposals of a connection plan (its load-conn body).
std::vector<std::string> esp_proposals(const ConnectionPlan& plan);

struct TunnelMtuOptions {
  int path_mtu = kExpressRouteMtu;
  std::chrono::milliseconds check_interval{10'000};
  std::chrono::milliseconds event_delay{300};  // after a CHILD SA event, before listing the SAs
};

class TunnelMtu {
 public:
  TunnelMtu(Clock& clock, vici::Client& charon, LinkMtu& links, TunnelMtuOptions options = {});
  ~TunnelMtu();
  TunnelMtu(const TunnelMtu&) = delete;
  TunnelMtu& operator=(const TunnelMtu&) = delete;

  // A new configuration (or data plane): check now.
  void set_plans(DataPlaneKind kind, std::vector<ConnectionPlan> plans);
  // child-updown, child-rekey: check soon.
  void charon_event(const std::string& name, const vici::Message& message);
  // What each device was set to, for the status.
  nlohmann::json report() const;
  const std::vector<DeviceMtu>& applied() const { return applied_; }

 private:
  void check();
  void apply(const std::vector<DeviceMtu>& wanted);
  void tick();

  vici::Client& charon_;
  LinkMtu& links_;
  TunnelMtuOptions options_;
  DataPlaneKind kind_ = DataPlaneKind::libipsec;
  std::vector<ConnectionPlan> plans_;
  std::vector<DeviceMtu> applied_;  // what the devices have, as last set or found
  std::string last_error_;
  bool check_in_flight_ = false;
  bool check_again_ = false;
  std::unique_ptr<Timer> tick_timer_;
  std::unique_ptr<Timer> event_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::gateway
