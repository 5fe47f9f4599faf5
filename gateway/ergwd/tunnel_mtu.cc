#include "gateway/ergwd/tunnel_mtu.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "gateway/ergwd/log.h"
#include "vici/commands.h"

namespace ergw::gateway {
namespace {

class IoctlLinkMtu final : public LinkMtu {
 public:
  std::optional<int> get(const std::string& device) override {
    ifreq ifr{};
    if (!name_into(device, ifr)) return std::nullopt;
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    const int r = ::ioctl(fd, SIOCGIFMTU, &ifr);
    ::close(fd);
    if (r < 0) return std::nullopt;
    return ifr.ifr_mtu;
  }

  Status set(const std::string& device, int mtu) override {
    ifreq ifr{};
    if (!name_into(device, ifr)) return Error{"\"" + device + "\" is not a device name"};
    ifr.ifr_mtu = mtu;
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
    const int r = ::ioctl(fd, SIOCSIFMTU, &ifr);
    const int error = errno;
    ::close(fd);
    if (r < 0) return Error{"cannot set the MTU of " + device + " to " + std::to_string(mtu) + ": " + std::strerror(error)};
    return Status::success();
  }

 private:
  static bool name_into(const std::string& device, ifreq& ifr) {
    if (device.empty() || device.size() >= IFNAMSIZ) return false;
    std::memcpy(ifr.ifr_name, device.c_str(), device.size() + 1);
    return true;
  }
};

bool is_ipv6(std::string_view address) { return address.find(':') != std::string_view::npos; }

std::string path_text(const EspPath& path) {
  return std::string(path.udp_encap ? "in UDP " : "") + "over IPv" + (path.ipv6 ? "6" : "4");
}

// One connection's need: the smallest inner packet any of its transforms allows.
struct Need {
  int mtu = 0;
  std::string why;
  bool negotiated = false;
};

std::optional<Need> need_of(const ConnectionPlan& plan, const std::vector<vici::IkeSaInfo>& sas, int path_mtu) {
  std::optional<Need> best;
  auto consider = [&](const EspTransform& t, const EspPath& path, bool negotiated) {
    const int mtu = max_inner_packet(t, path);
    if (best && best->mtu <= mtu) return;
    best = Need{mtu,
                t.name + " " + path_text(path) + (negotiated ? ", negotiated" : ", proposed (nothing negotiated yet)") +
                    ": " + std::to_string(esp_overhead(t, path)) + " bytes of ESP in a " + std::to_string(path_mtu) +
                    "-byte path",
                negotiated};
  };
  for (const auto& ike : sas) {
    if (ike.name != plan.name || !vici::is_established(ike.state)) continue;
    for (const auto& child : ike.child_sas) {
      if (!vici::is_installed(child.state)) continue;
      if (std::find(plan.children.begin(), plan.children.end(), child.name) == plan.children.end()) continue;
      const auto t = transform_of_sa(child.encr_alg, child.encr_keysize, child.integ_alg);
      if (!t) continue;
      consider(*t, EspPath{path_mtu, is_ipv6(ike.remote_host), child.encap}, true);
    }
  }
  if (best) return best;
  // Nothing established: the worst proposal, in UDP (NAT-T is known only
  // once IKE ran; kernel-libipsec always uses it).
  for (const auto& proposal : esp_proposals(plan)) {
    if (const auto t = transform_of_proposal(proposal)) consider(*t, EspPath{path_mtu, is_ipv6(plan.remote), true}, false);
  }
  return best;
}

}  // namespace

std::unique_ptr<LinkMtu> make_link_mtu() { return std::make_unique<IoctlLinkMtu>(); }

std::vector<std::string> esp_proposals(const ConnectionPlan& plan) {
  std::vector<std::string> out;
  const auto children = plan.conn.get_section("children");
  if (!children.ok() || children.value() == nullptr) return out;
  for (const auto& entry : children.value()->entries()) {
    if (entry.kind() != vici::Section::Kind::section) continue;
    const auto& child = std::get<vici::Section>(entry.value);
    const auto list = child.get_list("esp_proposals");
    if (!list.ok() || list.value() == nullptr) continue;
    for (const auto& p : *list.value()) {
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  return out;
}

std::vector<DeviceMtu> plan_tunnel_mtus(DataPlaneKind kind, const std::vector<ConnectionPlan>& plans,
                                        const std::vector<vici::IkeSaInfo>& sas, int path_mtu) {
  std::map<std::string, DeviceMtu> devices;
  for (const auto& plan : plans) {
    // Kernel XFRM: a policy-based connection has no device of its own (the
    // kernel's policy lookup takes the packet; its PMTU follows the SA).
    if (kind == DataPlaneKind::kernel && plan.if_id == 0) continue;
    const auto need = need_of(plan, sas, path_mtu);
    if (!need) continue;
    const std::string device = tunnel_device(kind, plan.if_id);
    auto [it, added] = devices.try_emplace(device);
    if (added || need->mtu < it->second.mtu) {
      it->second = DeviceMtu{device, need->mtu, plan.name, need->why, need->negotiated};
    }
  }
  std::vector<DeviceMtu> out;
  for (auto& [device, mtu] : devices) {
    if (kind == DataPlaneKind::libipsec && mtu.mtu > kLibipsecMaxMtu) {
      mtu.why += "; " + std::to_string(mtu.mtu) + " would fit, but kernel-libipsec reads ipsec0 with a " +
                 std::to_string(kLibipsecMaxMtu) + "-byte buffer";
      mtu.mtu = kLibipsecMaxMtu;
    }
    out.push_back(std::move(mtu));
  }
  return out;
}

TunnelMtu::TunnelMtu(Clock& clock, vici::Client& charon, LinkMtu& links, TunnelMtuOptions options)
    : charon_(charon),
      links_(links),
      options_(options),
      tick_timer_(clock.make_timer()),
      event_timer_(clock.make_timer()) {
  tick();
}

TunnelMtu::~TunnelMtu() { *alive_ = false; }

void TunnelMtu::set_plans(DataPlaneKind kind, std::vector<ConnectionPlan> plans) {
  kind_ = kind;
  plans_ = std::move(plans);
  check();
}

void TunnelMtu::charon_event(const std::string& name, const vici::Message&) {
  if (name != "child-updown" && name != "child-rekey") return;
  // Let charon finish installing before the SAs are listed.
  event_timer_->start(options_.event_delay, [this] { check(); });
}

void TunnelMtu::tick() {
  tick_timer_->start(options_.check_interval, [this] {
    check();
    tick();
  });
}

void TunnelMtu::check() {
  if (plans_.empty()) return;
  if (check_in_flight_) {
    check_again_ = true;
    return;
  }
  if (!charon_.connected()) {
    apply(plan_tunnel_mtus(kind_, plans_, {}, options_.path_mtu));
    return;
  }
  check_in_flight_ = true;
  vici::list_sas(charon_, {}, [this, alive = std::weak_ptr<bool>(alive_)](Result<std::vector<vici::IkeSaInfo>> sas) {
    auto token = alive.lock();
    if (!token || !*token) return;
    check_in_flight_ = false;
    // Without the SAs, the proposals still give a safe size.
    apply(plan_tunnel_mtus(kind_, plans_, sas ? sas.value() : std::vector<vici::IkeSaInfo>{}, options_.path_mtu));
    if (check_again_) {
      check_again_ = false;
      check();
    }
  });
}

void TunnelMtu::apply(const std::vector<DeviceMtu>& wanted) {
  std::vector<DeviceMtu> now;
  for (const auto& w : wanted) {
    const auto current = links_.get(w.device);
    if (!current) continue;  // not there yet: charon or the fast path makes it
    if (*current != w.mtu) {
      if (auto s = links_.set(w.device, w.mtu); !s) {
        if (s.error() != last_error_) log_line(LogLevel::error, "tunnel MTU: " + s.error());
        last_error_ = s.error();
        continue;
      }
      log_line(LogLevel::info, "tunnel MTU: " + w.device + " " + std::to_string(*current) + " -> " +
                                   std::to_string(w.mtu) + " (" + w.connection + ": " + w.why + ")");
    }
    now.push_back(w);
  }
  applied_ = std::move(now);
}

nlohmann::json TunnelMtu::report() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : applied_) {
    out.push_back({{"device", d.device},
                   {"mtu", d.mtu},
                   {"path_mtu", options_.path_mtu},
                   {"connection", d.connection},
                   {"negotiated", d.negotiated},
                   {"why", d.why}});
  }
  return out;
}

}  // namespace ergw::gateway
