#include "routing/peer_validation.h"

#include <algorithm>
#include <set>
#include <string>

namespace ergw::routing {
namespace {

using Severity = Diagnostic::Severity;

constexpr const char* kUsableAsns =
    "use a private ASN in 64512-65514 or 65521-65534, a 32-bit private ASN in "
    "4200000000-4294967294, or a public ASN you hold";

// Kernel routing table ids that belong to the kernel itself (rtnetlink.h:
// RT_TABLE_UNSPEC 0, RT_TABLE_DEFAULT 253, RT_TABLE_MAIN 254, RT_TABLE_LOCAL 255).
bool is_system_table(uint32_t table) { return table == 0 || table == 253 || table == 254 || table == 255; }

bool is_link_local_v4(const IpAddress& a) {
  return a.is_v4() && (a.v4_host_order() >> 16) == ((169u << 8) | 254u);
}

bool in_azure_apipa_range(const IpAddress& a) {
  return a.is_v4() && a.v4_host_order() >= kAzureApipaFirst && a.v4_host_order() <= kAzureApipaLast;
}

// BIRD symbols: a letter or '_' then letters, digits, '_' (cf-lex.l); ergw
// adds the "ergw_" prefix, so the name itself may start with a digit.
bool is_bird_symbol_tail(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// BIRD 2.0.12 strings have no escapes: a '"' or a newline ends or breaks them.
bool is_bird_string_safe(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f && c != '"' && c != '\\';
  });
}

class Checker {
 public:
  Checker(const BgpPeer& peer, std::vector<Diagnostic>& out)
      : prefix_("peers[" + (peer.name.empty() ? std::string("?") : peer.name) + "]."), out_(out) {}

  void error(const std::string& field, std::string message) {
    out_.push_back({Severity::kError, prefix_ + field, std::move(message)});
  }
  void warning(const std::string& field, std::string message) {
    out_.push_back({Severity::kWarning, prefix_ + field, std::move(message)});
  }
  void add(Severity severity, const std::string& field, std::string message) {
    out_.push_back({severity, prefix_ + field, std::move(message)});
  }

 private:
  std::string prefix_;
  std::vector<Diagnostic>& out_;
};

std::string list_field(const char* name, size_t index) { return std::string(name) + "[" + std::to_string(index) + "]"; }

void check_name(const BgpPeer& peer, Checker& c) {
  if (peer.name.empty() || peer.name.size() > 32 || !is_bird_symbol_tail(peer.name)) {
    c.error("name", "\"" + (is_bird_string_safe(peer.name) ? peer.name : std::string("<unprintable>")) +
                        "\" is not allowed; use 1-32 characters from a-z, A-Z, 0-9 and '_'");
  }
}

void check_asns(const BgpPeer& peer, Checker& c) {
  if (const char* why = reserved_asn_reason(peer.local_asn)) {
    c.error("local_asn", std::to_string(peer.local_asn) + " is " + why + "; " + kUsableAsns);
  }
  // Azure's own ASN is 65515 by default; any other it may carry is its choice,
  // but 0, AS_TRANS and the last 32-bit ASN can never appear in a session.
  if (peer.peer_asn == 0 || peer.peer_asn == 23456 || peer.peer_asn == 4294967295u) {
    c.error("peer_asn", std::to_string(peer.peer_asn) +
                            " can not be a BGP speaker's ASN (0, 23456 and 4294967295 are reserved by IANA); "
                            "Azure's default is 65515");
  }
  if (peer.local_asn == peer.peer_asn) {
    c.error("peer_asn", std::to_string(peer.peer_asn) +
                            " equals local_asn; Azure peers over eBGP only, the on-prem and Azure ASNs must differ");
  }
}

void check_addresses(const BgpPeer& peer, Checker& c) {
  // Azure's VPN BGP is IPv4; BIRD gets one ipv4 channel per session.
  if (!peer.peer_address.is_v4()) c.error("peer_address", peer.peer_address.to_string() + " is IPv6; allowed: an IPv4 address");
  if (!peer.local_address.is_v4()) c.error("local_address", peer.local_address.to_string() + " is IPv6; allowed: an IPv4 address");
  if (peer.source_address && !peer.source_address->is_v4()) {
    c.error("source_address", peer.source_address->to_string() + " is IPv6; allowed: an IPv4 address");
  }
  if (peer.peer_address == peer.local_address) {
    c.error("local_address", peer.local_address.to_string() + " equals peer_address; the two ends need different addresses");
  }
  bool any_apipa = false;
  if (is_link_local_v4(peer.peer_address)) {
    any_apipa = true;
    if (!in_azure_apipa_range(peer.peer_address)) {
      c.error("peer_address", peer.peer_address.to_string() +
                                  " is an APIPA address outside Azure's range; allowed: 169.254.21.0-169.254.22.255");
    }
  }
  if (is_link_local_v4(peer.local_address)) {
    any_apipa = true;
    if (!in_azure_apipa_range(peer.local_address)) {
      c.warning("local_address", peer.local_address.to_string() +
                                     " is an APIPA address outside 169.254.21.0-169.254.22.255, the range Azure "
                                     "documents for APIPA BGP; prefer an address from it");
    }
  }
  // "The on-premises BGP peer IP must not be ... from the VNet address space"
  // (VPN FAQ); Azure's own non-APIPA BGP address is a GatewaySubnet address,
  // so it lies inside the VNet.
  for (const IpPrefix& vnet : peer.vnet_prefixes) {
    if (vnet.contains(peer.local_address)) {
      c.error("local_address", peer.local_address.to_string() + " lies in VNet prefix " + vnet.to_string() +
                                   "; allowed: an on-prem loopback or APIPA address outside the VNet");
    }
  }
  if (!is_link_local_v4(peer.peer_address) && !peer.vnet_prefixes.empty() &&
      std::none_of(peer.vnet_prefixes.begin(), peer.vnet_prefixes.end(),
                   [&](const IpPrefix& vnet) { return vnet.contains(peer.peer_address); })) {
    c.warning("peer_address", peer.peer_address.to_string() +
                                  " is neither an APIPA address nor inside the VNet prefixes; Azure's BGP address "
                                  "is a GatewaySubnet address (bgpPeeringAddress) or 169.254.21.0-169.254.22.255");
  }
  if (any_apipa && !peer.must_initiate) {
    c.error("must_initiate", "false, but Azure never opens a BGP session with APIPA addresses; allowed: true");
  }
}

void check_session(const BgpPeer& peer, Checker& c) {
  if (peer.hold_time_seconds != kAzureHoldTimeSeconds) {
    c.error("hold_time_seconds", std::to_string(peer.hold_time_seconds) +
                                     " differs from Azure's fixed hold time; allowed: 180");
  }
  if (peer.keepalive_seconds != kAzureKeepaliveSeconds) {
    c.error("keepalive_seconds", std::to_string(peer.keepalive_seconds) +
                                     " differs from Azure's fixed keepalive; allowed: 60");
  }
  if (peer.multihop_ttl < 0 || peer.multihop_ttl > 255) {
    c.error("multihop_ttl", std::to_string(peer.multihop_ttl) + " is out of range; allowed: 0 (BIRD default) or 1-255");
  } else if (!peer.multihop && peer.multihop_ttl != 0) {
    c.error("multihop_ttl", std::to_string(peer.multihop_ttl) + " is set but multihop is false; allowed: 0");
  }
  if (peer.password) {
    // The value is never shown, not even in an error.
    if (peer.password->empty() || peer.password->size() > static_cast<size_t>(kMaxTcpMd5KeyLength)) {
      c.error("password", "length " + std::to_string(peer.password->size()) + " (value not shown); allowed: 1-80 bytes");
    } else if (!is_bird_string_safe(peer.password->reveal_for_bird_config())) {
      c.error("password", "contains a control character, '\"' or '\\' (value not shown); "
                          "allowed: printable characters other than '\"' and '\\'");
    }
  }
  if (peer.tunnel_interface.empty() || peer.tunnel_interface.size() > 15 ||
      !is_bird_string_safe(peer.tunnel_interface) || peer.tunnel_interface.find(' ') != std::string::npos ||
      peer.tunnel_interface.find('/') != std::string::npos || peer.tunnel_interface.find('\'') != std::string::npos) {
    c.error("tunnel_interface", "\"" + (is_bird_string_safe(peer.tunnel_interface) ? peer.tunnel_interface : "<unprintable>") +
                                    "\" is not an interface name; allowed: 1-15 characters, no spaces, '/' or quotes");
  }
  if (peer.tunnel_next_hop && !peer.tunnel_next_hop->is_v4()) {
    c.error("tunnel_next_hop", peer.tunnel_next_hop->to_string() + " is IPv6; allowed: an IPv4 address");
  }
  if (peer.import_limit == 0) c.error("import_limit", "0; allowed: 1 or more routes");
  if (is_system_table(peer.kernel_table)) {
    c.error("kernel_table", std::to_string(peer.kernel_table) +
                                " belongs to the kernel (0 unspec, 253 default, 254 main, 255 local); allowed: "
                                "1-252 or 256-4294967295, a table only ergw writes");
  }
}

void check_prefix_families(const std::vector<IpPrefix>& prefixes, const char* name, Checker& c) {
  for (size_t i = 0; i < prefixes.size(); ++i) {
    if (!prefixes[i].is_v4()) c.error(list_field(name, i), prefixes[i].to_string() + " is IPv6; allowed: IPv4 prefixes");
  }
}

void check_exports(const BgpPeer& peer, const ValidationOptions& options, Checker& c) {
  check_prefix_families(peer.export_prefixes, "export_prefixes", c);
  check_prefix_families(peer.vnet_prefixes, "vnet_prefixes", c);
  check_prefix_families(peer.expressroute_prefixes, "expressroute_prefixes", c);

  if (peer.export_prefixes.size() > static_cast<size_t>(kAzureMaxAcceptedPrefixes)) {
    c.error("export_prefixes", std::to_string(peer.export_prefixes.size()) +
                                   " prefixes; Azure drops the session above 4000; allowed: at most 4000 "
                                   "(summarize on-prem prefixes)");
  }
  std::set<IpPrefix> seen;
  for (size_t i = 0; i < peer.export_prefixes.size(); ++i) {
    const IpPrefix& p = peer.export_prefixes[i];
    const std::string field = list_field("export_prefixes", i);
    if (!seen.insert(p).second) c.warning(field, p.to_string() + " is listed twice");
    if (p.length() == 0 && !peer.allow_default_route_export) {
      c.error(field, p.to_string() + " is a default route; it would pull all of Azure's Internet-bound traffic "
                                     "to on-prem; set allow_default_route_export to announce it on purpose");
    }
    for (const IpPrefix& vnet : peer.vnet_prefixes) {
      // A default route is a superset of everything; it is governed by its own flag above.
      if (p.length() == 0) break;
      if (p.overlaps(vnet)) {
        c.error(field, p.to_string() + " overlaps VNet prefix " + vnet.to_string() +
                           "; VNet prefixes are never announced to Azure; allowed: prefixes disjoint from the VNet");
      }
    }
    for (const IpPrefix& er : peer.expressroute_prefixes) {
      Severity severity = options.strict_expressroute ? Severity::kError : Severity::kWarning;
      if (p == er) {
        // azure.md §5: "If you advertise the same prefixes over both
        // ExpressRoute and VPN connections, Azure will use the ExpressRoute
        // path directly without VPN protection."
        c.add(severity, field,
              p.to_string() + " is also announced over ExpressRoute; Azure prefers ExpressRoute for equal "
                              "prefixes and that traffic would leave unencrypted; announce more-specific "
                              "prefixes over the VPN (e.g. two halves of it) or prefixes disjoint from ExpressRoute's");
      } else if (p.contains(er)) {
        // Azure picks the longest match, so the part ExpressRoute announces
        // more specifically still goes over ExpressRoute.
        c.add(severity, field,
              p.to_string() + " covers " + er.to_string() + ", which is announced over ExpressRoute; Azure sends "
                              "traffic for " + er.to_string() + " over ExpressRoute, unencrypted; announce "
                              "prefixes more specific than " + er.to_string() + " over the VPN, or disjoint ones");
      }
      // A more-specific export wins by longest match: that is the fix, not a problem.
    }
  }
  if (peer.vnet_prefixes.empty()) {
    c.warning("vnet_prefixes", "empty; exports can not be checked against the VNet and nothing is filtered as VNet");
  }
}

}  // namespace

const char* reserved_asn_reason(uint32_t asn) {
  // Azure reserves these (VPN FAQ, BGP section).
  if (asn == 8074 || asn == 8075 || asn == 12076) return "reserved by Azure (public 8074, 8075, 12076)";
  if (asn == 65515 || (asn >= 65517 && asn <= 65520)) return "reserved by Azure (private 65515, 65517-65520)";
  // IANA: 0 (RFC 7607), 23456 AS_TRANS (RFC 6793), 64496-64511 and
  // 65536-65551 documentation (RFC 5398), 65535 and 4294967295 (RFC 7300).
  if (asn == 0) return "reserved by IANA (0, RFC 7607)";
  if (asn == 23456) return "reserved by IANA (23456, AS_TRANS, RFC 6793)";
  if (asn >= 64496 && asn <= 64511) return "reserved by IANA (64496-64511, documentation, RFC 5398)";
  if (asn >= 65535 && asn <= 65551) return "reserved by IANA (65535-65551, RFC 7300 and RFC 5398)";
  if (asn == 4294967295u) return "reserved by IANA (4294967295, RFC 7300)";
  return nullptr;
}

std::vector<Diagnostic> validate_peer(const BgpPeer& peer, const ValidationOptions& options) {
  std::vector<Diagnostic> out;
  Checker c(peer, out);
  check_name(peer, c);
  check_asns(peer, c);
  check_addresses(peer, c);
  check_session(peer, c);
  check_exports(peer, options, c);
  return out;
}

std::vector<Diagnostic> validate_config(const BirdConfig& config, const ValidationOptions& options) {
  std::vector<Diagnostic> out;
  if (!config.router_id.is_v4()) {
    out.push_back({Severity::kError, "router_id", config.router_id.to_string() + " is IPv6; allowed: an IPv4 address"});
  }
  if (!config.log_file.empty() && (!is_bird_string_safe(config.log_file) || config.log_file[0] != '/')) {
    out.push_back({Severity::kError, "log_file", "not an absolute path BIRD can quote; allowed: /absolute/path without quotes"});
  }
  std::set<std::string> names;
  std::set<IpAddress> peer_addresses;
  for (const BgpPeer& peer : config.peers) {
    auto diagnostics = validate_peer(peer, options);
    out.insert(out.end(), diagnostics.begin(), diagnostics.end());
    const std::string prefix = "peers[" + peer.name + "].";
    if (!names.insert(peer.name).second) {
      out.push_back({Severity::kError, prefix + "name", "\"" + peer.name + "\" is used by another peer; names must be unique"});
    }
    if (!peer_addresses.insert(peer.peer_address).second) {
      out.push_back({Severity::kError, prefix + "peer_address",
                     peer.peer_address.to_string() + " is used by another peer; one session per Azure BGP address"});
    }
    // BIRD allows one kernel protocol per BIRD table and ergw uses one table.
    if (peer.kernel_table != config.peers.front().kernel_table) {
      out.push_back({Severity::kError, prefix + "kernel_table",
                     std::to_string(peer.kernel_table) + " differs from the first peer's " +
                         std::to_string(config.peers.front().kernel_table) +
                         "; allowed: one ergw kernel table per BIRD instance"});
    }
  }
  return out;
}

}  // namespace ergw::routing
