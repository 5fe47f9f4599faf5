#include "lab/azure/azure_bird.h"

#include <filesystem>

#include "routing/bird_config_writer.h"
#include "routing/bird_connection.h"

namespace ergw::azure_lab {
namespace {

// "The BGP keepalive timer is 60 seconds, and the hold timer is 180 seconds.
// Azure VPN Gateways use fixed timer values" (VPN Gateway FAQ).
constexpr int kHoldTimeSeconds = 180;
constexpr int kKeepaliveSeconds = 60;
// "up to 4,000 prefixes. The BGP session is dropped if the number of
// prefixes exceeds the limit." (VPN Gateway FAQ)
constexpr int kMaxPrefixesFromPeer = 4000;

}  // namespace

std::optional<AzureBgpSide> azure_bgp_side(const policy::ConnectionSpec& spec, size_t instance) {
  if (!spec.azure.enable_bgp || !spec.local.asn || !spec.local.bgp_peering_address) return std::nullopt;
  AzureBgpSide side;
  side.asn = spec.gateway.asn;
  const auto& custom = spec.azure.gateway_custom_bgp_ip_addresses;
  if (!custom.empty()) {
    if (instance >= custom.size()) return std::nullopt;
    side.address = custom[instance].address;
    side.apipa = true;
  } else if (instance < spec.gateway.bgp_peering_addresses.size()) {
    side.address = spec.gateway.bgp_peering_addresses[instance];
  } else {
    return std::nullopt;
  }
  side.peer_asn = *spec.local.asn;
  side.peer_address = *spec.local.bgp_peering_address;
  // "If your on-premises VPN devices use APIPA addresses as the BGP IP, you
  // need to configure your BGP speaker to initiate the connections."
  const auto& peer = side.peer_address;
  if (peer.is_v4() && (peer.v4_host_order() >> 16) == ((169u << 8) | 254u)) side.apipa = true;
  side.vnet_prefixes = spec.gateway.vnet_prefixes;
  side.password = spec.bgp_password;
  return side;
}

std::string render_azure_bird_config(const AzureBgpSide& side, const std::string& log_file) {
  std::string out;
  out += "# The simulated Azure VPN gateway's BGP speaker (ergw lab).\n";
  out += "log \"" + log_file + "\" all;\n";
  out += "router id " + side.address.to_string() + ";\n";
  out += "timeformat protocol iso long;\ntimeformat route iso long;\n\n";
  out += "protocol device { scan time 2; }\n\n";
  out += "# The VNet's address space, announced only (the VNet itself is routed by the lab).\n";
  out += "protocol static " + std::string(kAzureVnetProtocol) + " {\n  ipv4;\n";
  for (const auto& p : side.vnet_prefixes) out += "  route " + p.to_string() + " blackhole;\n";
  out += "}\n\n";
  out += "# Azure's host route to the local network gateway's BGP address, into the tunnel.\n";
  out += "protocol static azure_tunnel_hosts {\n  ipv4;\n  route " + side.peer_address.to_string() +
         "/32 via \"ipsec0\";\n}\n\n";
  out += "# Learned on-prem prefixes (and the host route) go into azure-gw's main table.\n";
  out += "protocol kernel azure_kernel {\n  ipv4 {\n    import none;\n";
  out += "    export where source = RTS_BGP || proto = \"azure_tunnel_hosts\";\n  };\n  scan time 2;\n}\n\n";
  out += "protocol bgp " + std::string(kAzureBgpProtocol) + " {\n";
  out += "  local " + side.address.to_string() + " as " + std::to_string(side.asn) + ";\n";
  out += "  neighbor " + side.peer_address.to_string() + " as " + std::to_string(side.peer_asn) + ";\n";
  out += "  source address " + side.address.to_string() + ";\n";
  out += "  multihop;\n";
  out += "  hold time " + std::to_string(kHoldTimeSeconds) + ";\n  keepalive time " +
         std::to_string(kKeepaliveSeconds) + ";\n";
  // "the gateways do not initiate BGP peering sessions with APIPA source IP
  // addresses" (How to configure BGP for VPN Gateway).
  if (side.apipa) out += "  passive on;\n";
  if (side.password) out += "  password \"" + side.password->reveal() + "\";\n";
  out += "  ipv4 {\n    import all;\n    export where proto = \"" + std::string(kAzureVnetProtocol) + "\";\n";
  // "The BGP session is dropped if the number of prefixes exceeds the limit."
  out += "    import limit " + std::to_string(kMaxPrefixesFromPeer) + " action restart;\n  };\n}\n";
  return out;
}

Result<std::unique_ptr<AzureBird>> AzureBird::start(lab::Lab& lab, const AzureBgpSide& side, lab::Node node,
                                                    const std::string& name) {
  const auto dir = lab.state_dir() / name;
  std::filesystem::create_directories(dir);
  auto added = lab.exec(node, {"ip", "address", "replace", side.address.to_string() + "/32", "dev", "lo"});
  if (!added.ok()) {
    return Error{"cannot put Azure's BGP address on " + std::string(lab::node_title(node)) + "'s lo: " + added.err};
  }
  std::unique_ptr<AzureBird> self(new AzureBird());
  self->side_ = side;
  self->socket_path_ = (dir / "bird.ctl").string();
  const auto conf = (dir / "bird.conf").string();
  if (auto s = routing::write_config_file(conf, render_azure_bird_config(side, (dir / "bird.log").string())); !s) {
    return Error{s.error()};
  }
  lab.progress("[lab " + lab.id() + "] BIRD on the simulated Azure gateway (" + std::string(lab::node_title(node)) +
               "): AS " + std::to_string(side.asn) +
               ", BGP address " + side.address.to_string() + (side.apipa ? " (APIPA: passive)" : ""));
  // Supervised like the lab's charons, so a kept lab keeps it.
  if (auto s = lab.start_daemon(node, name,
                                {"/usr/sbin/bird", "-f", "-c", conf, "-s", self->socket_path_, "-P",
                                 (dir / "bird.pid").string()});
      !s) {
    return Error{"Azure-side BIRD: " + s.error()};
  }
  if (auto answering = routing::BirdConnection(self->socket_path_).wait_until_answering(std::chrono::seconds(10));
      !answering) {
    return Error{"Azure-side BIRD did not open " + self->socket_path_ + ": " + answering.error()};
  }
  return self;
}

Status AzureBird::set_session_enabled(bool enabled) {
  const Status switched = routing::BirdConnection(socket_path_).switch_protocol(
      kAzureBgpProtocol, enabled ? routing::ProtocolSwitch::enable : routing::ProtocolSwitch::disable);
  if (!switched) return switched;
  enabled_ = enabled;
  return Status::success();
}

Status AzureBird::set_vnet_announced(bool announced) {
  return routing::BirdConnection(socket_path_).switch_protocol(
      kAzureVnetProtocol, announced ? routing::ProtocolSwitch::enable : routing::ProtocolSwitch::disable);
}

Result<routing::ProtocolStatus> AzureBird::session() {
  auto protocols = routing::BirdConnection(socket_path_).protocols(kAzureBgpProtocol);
  if (!protocols) return Error{protocols.error()};
  if (protocols.value().empty()) return Error{"no protocol " + std::string(kAzureBgpProtocol)};
  return protocols.value().front();
}

Result<std::vector<routing::Route>> AzureBird::learned_routes() {
  routing::RouteQuery q;
  q.protocol = kAzureBgpProtocol;
  q.all = false;
  return routing::BirdConnection(socket_path_).routes(q);
}

}  // namespace ergw::azure_lab
