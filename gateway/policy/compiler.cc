#include "gateway/policy/compiler.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "gateway/policy/azure_defaults.h"
#include "gateway/policy/validator.h"

namespace ergw::policy {
namespace {

std::string ike_encryption_keyword(IkeEncryption e) {
  switch (e) {
    case IkeEncryption::DES: return "des";
    case IkeEncryption::DES3: return "3des";
    case IkeEncryption::AES128: return "aes128";
    case IkeEncryption::AES192: return "aes192";
    case IkeEncryption::AES256: return "aes256";
    case IkeEncryption::GCMAES128: return "aes128gcm16";
    case IkeEncryption::GCMAES256: return "aes256gcm16";
  }
  return "";
}

std::string hash_keyword(IkeIntegrity i) {
  switch (i) {
    case IkeIntegrity::MD5: return "md5";
    case IkeIntegrity::SHA1: return "sha1";
    case IkeIntegrity::SHA256: return "sha256";
    case IkeIntegrity::SHA384: return "sha384";
    case IkeIntegrity::GCMAES128:
    case IkeIntegrity::GCMAES256: return "";  // refused by validation
  }
  return "";
}

std::string ipsec_encryption_keyword(IpsecEncryption e) {
  switch (e) {
    case IpsecEncryption::None: return "null";
    case IpsecEncryption::DES: return "des";
    case IpsecEncryption::DES3: return "3des";
    case IpsecEncryption::AES128: return "aes128";
    case IpsecEncryption::AES192: return "aes192";
    case IpsecEncryption::AES256: return "aes256";
    case IpsecEncryption::GCMAES128: return "aes128gcm16";
    case IpsecEncryption::GCMAES192: return "aes192gcm16";
    case IpsecEncryption::GCMAES256: return "aes256gcm16";
  }
  return "";
}

std::string ipsec_integrity_keyword(IpsecIntegrity i) {
  switch (i) {
    case IpsecIntegrity::MD5: return "md5";
    case IpsecIntegrity::SHA1: return "sha1";
    case IpsecIntegrity::SHA256: return "sha256";  // HMAC-SHA-256-128, RFC 4868
    case IpsecIntegrity::GCMAES128:
    case IpsecIntegrity::GCMAES192:
    case IpsecIntegrity::GCMAES256: return "";  // AEAD: no separate integrity
  }
  return "";
}

std::string join(const std::vector<std::string>& parts, char separator) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

bool is_route_based(const AzureConnection& c) { return !c.use_policy_based_traffic_selectors; }

std::string address_or_any(const std::optional<IpAddress>& a) { return a ? a->to_string() : "%any"; }

struct Tunnel {
  std::string name;
  std::string local;      // our address, or %any
  std::string remote;     // Azure's tunnel address, or %any
  std::string local_id;   // our IKE identity
  std::string remote_id;  // Azure's IKE identity
  uint32_t if_id = 0;
  size_t instance = 0;    // index into the gateway's tunnel addresses
};

// Azure's identity for instance `i`: the configured one (one for all, or one
// per instance), else the address it is reached at.
std::string remote_identity(const ConnectionSpec& spec, size_t i, const std::string& remote) {
  const auto& ids = spec.gateway.ike_identities;
  if (ids.empty()) return remote;
  return ids.size() == 1 ? ids.front() : ids.at(i);
}

// One IKE connection per Azure gateway instance we reach (two when active-active).
std::vector<Tunnel> tunnels_of(const ConnectionSpec& spec) {
  std::vector<Tunnel> out;
  const auto local = address_or_any(spec.local.address);
  const auto local_id = spec.local.ike_identity.value_or(local);
  const auto& remotes = spec.gateway.tunnel_ip_addresses;
  if (remotes.size() <= 1) {
    const std::string remote = remotes.empty() ? "%any" : remotes[0].to_string();
    out.push_back({spec.name, local, remote, local_id, remote_identity(spec, 0, remote), 0});
  } else {
    for (size_t i = 0; i < remotes.size(); ++i) {
      const std::string remote = remotes[i].to_string();
      out.push_back({spec.name + "-i" + std::to_string(i), local, remote, local_id,
                     remote_identity(spec, i, remote), 0, i});
    }
  }
  return out;
}

// XFRM interface ids: the configured one for a connection's first tunnel,
// otherwise the lowest free id, in configuration order (stable as long as the
// configuration keeps its order; set interfaceId to pin it).
std::vector<std::vector<Tunnel>> assign_tunnels(const ApplianceConfig& config) {
  std::set<uint32_t> used;
  for (const auto& spec : config.connections) {
    if (spec.interface_id) used.insert(*spec.interface_id);
  }
  uint32_t next = 1;
  auto take_free = [&] {
    while (used.count(next)) ++next;
    used.insert(next);
    return next;
  };
  std::vector<std::vector<Tunnel>> all;
  for (const auto& spec : config.connections) {
    auto tunnels = tunnels_of(spec);
    for (size_t i = 0; i < tunnels.size(); ++i) {
      if (!is_route_based(spec.azure)) continue;
      tunnels[i].if_id = (i == 0 && spec.interface_id) ? *spec.interface_id : take_free();
    }
    all.push_back(std::move(tunnels));
  }
  return all;
}

struct Selectors {
  std::string name_suffix;
  std::vector<std::string> local;   // our side (on-prem)
  std::vector<std::string> remote;  // Azure's side (the VNet)
};

// A prefix as part of a CHILD name: strongSwan's configuration syntax keeps
// '.' and ':' out of names, so they become '_' (192_168_10_0/24,
// 2001_db8__/32). Named after its pair, a CHILD that is missing says by its
// name alone which prefixes have no tunnel (in ergw status and charon's log).
std::string pair_name_part(const IpPrefix& prefix) {
  std::string text = prefix.to_string();
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '.' || c == ':'; }, '_');
  return text;
}

// Route-based: any-to-any, as Azure proposes. Policy-based: Azure keys one
// CHILD SA per pair of an on-prem and a VNet prefix, so ergw does the same -
// one CHILD SA carrying several prefixes could be narrowed by the peer to one
// pair, leaving the others without a tunnel. The pairs come from
// trafficSelectorPolicies (Azure's "local" is the VNet, its "remote" is
// on-prem), or, without entries, every on-prem prefix with every VNet prefix.
// Each CHILD is named <connection>-<on-prem prefix>-<VNet prefix>.
std::vector<Selectors> selectors_of(const ConnectionSpec& spec) {
  const auto& c = spec.azure;
  if (is_route_based(c)) return {{"", {"0.0.0.0/0", "::/0"}, {"0.0.0.0/0", "::/0"}}};
  std::vector<std::pair<IpPrefix, IpPrefix>> pairs;  // (on-prem, VNet)
  auto add = [&](const IpPrefix& onprem, const IpPrefix& vnet) {
    if (std::find(pairs.begin(), pairs.end(), std::make_pair(onprem, vnet)) == pairs.end()) {
      pairs.emplace_back(onprem, vnet);
    }
  };
  if (!c.traffic_selector_policies.empty()) {
    for (const auto& ts : c.traffic_selector_policies) {
      for (const auto& onprem : ts.remote_address_ranges) {
        for (const auto& vnet : ts.local_address_ranges) add(onprem, vnet);
      }
    }
  } else {
    for (const auto& onprem : spec.local.prefixes) {
      for (const auto& vnet : spec.gateway.vnet_prefixes) add(onprem, vnet);
    }
  }
  std::vector<Selectors> out;
  for (const auto& [onprem, vnet] : pairs) {
    out.push_back({"-" + pair_name_part(onprem) + "-" + pair_name_part(vnet), {onprem.to_string()},
                   {vnet.to_string()}});
  }
  return out;
}

IpsecPolicy effective_policy_or_default(const AzureConnection& c, bool& is_default) {
  const auto custom = c.custom_policy();
  is_default = !custom.has_value();
  if (custom) return *custom;
  IpsecPolicy p;
  p.sa_lifetime_seconds = kAzureDefaultSaLifetimeSeconds;
  p.sa_data_size_kilobytes = kAzureDefaultSaDataSizeKilobytes;
  return p;
}

// charon finds the PSK by the two IKE identities.
SharedSecretConfig secret_for(const Tunnel& t, const Secret& key) {
  SharedSecretConfig s;
  s.name = "ike-" + t.name;
  s.owners = {t.local_id, t.remote_id};
  s.owners.erase(std::remove(s.owners.begin(), s.owners.end(), "%any"), s.owners.end());
  s.secret = key;
  return s;
}

}  // namespace

std::string dh_group_keyword(DhGroup group) {
  switch (group) {
    case DhGroup::None: return "";
    case DhGroup::DHGroup1: return "modp768";
    case DhGroup::DHGroup2: return "modp1024";
    case DhGroup::DHGroup14:
    case DhGroup::DHGroup2048: return "modp2048";
    case DhGroup::ECP256: return "ecp256";
    case DhGroup::ECP384: return "ecp384";
    case DhGroup::DHGroup24: return "modp2048s256";  // RFC 5114 2048-bit MODP, 256-bit prime order subgroup
  }
  return "";
}

std::string pfs_group_keyword(PfsGroup group, DhGroup ike_group) {
  switch (group) {
    case PfsGroup::None: return "";
    case PfsGroup::PFS1: return "modp768";
    case PfsGroup::PFS2: return "modp1024";
    case PfsGroup::PFS2048:
    case PfsGroup::PFS14: return "modp2048";
    case PfsGroup::ECP256: return "ecp256";
    case PfsGroup::ECP384: return "ecp384";
    case PfsGroup::PFS24: return "modp2048s256";
    case PfsGroup::PFSMM: return dh_group_keyword(ike_group);  // "same as main mode"
  }
  return "";
}

std::string ike_proposal(const IpsecPolicy& p) {
  // With GCM encryption, ikeIntegrity is the PRF only (docs/azure-facts.md), which
  // strongSwan spells prf<hash>; otherwise <hash> is both integrity and PRF.
  std::string hash = hash_keyword(p.ike_integrity);
  if (is_gcm(p.ike_encryption)) hash = "prf" + hash;
  return join({ike_encryption_keyword(p.ike_encryption), hash, dh_group_keyword(p.dh_group)}, '-');
}

std::string esp_proposal(const IpsecPolicy& p) {
  // A group in an ESP proposal means PFS, used from the first rekey on: the
  // first CHILD SA is always keyed from the IKE SA.
  return join({ipsec_encryption_keyword(p.ipsec_encryption), ipsec_integrity_keyword(p.ipsec_integrity),
               pfs_group_keyword(p.pfs_group, p.dh_group)},
              '-');
}

ChildLifetimes child_lifetimes(int64_t seconds, int64_t kilobytes) {
  // The hard limit is Azure's number; ergw rekeys in the last tenth before it,
  // spread over half of that tenth so that many tunnels do not rekey at once.
  // Azure's lifetimes are local and need not match (docs/azure-facts.md): rekeying
  // first keeps ergw the initiator of nearly every CHILD rekey.
  ChildLifetimes l{};
  const int64_t margin = seconds / 10;
  l.life_time = seconds;
  l.rekey_time = seconds - margin;
  l.rand_time = margin / 2;
  l.life_bytes = static_cast<uint64_t>(kilobytes) * 1024u;
  l.rekey_bytes = l.life_bytes / 10 * 9;
  return l;
}

IkeLifetimes ike_lifetimes() {
  // Azure's IKE SA lives 28,800 s, fixed. ergw rekeys (inline, IKEv2) between
  // 23,400 s and 25,200 s - at least 3,600 s before Azure's end, and before
  // the 90 % point where a peer would typically start its own rekey, so the two
  // sides do not collide. over_time gives a hard end at 27,900 s < 28,800 s.
  return IkeLifetimes{25'200, 2'700, 1'800};
}

int64_t dpd_delay_for(int dpd_timeout_seconds) {
  // Probe every third of the timeout when idle, so that a peer is probed at
  // least twice before Azure's own timeout would declare us dead.
  return std::max<int64_t>(3, dpd_timeout_seconds / 3);
}

CharonSettings charon_settings_for_dpd(int timeout) {
  // IKEv2 declares a peer dead after retransmit_tries retransmissions, waiting
  // timeout * base^n before each (strongSwan's retransmission formula): total =
  // t0 * (base^(tries+1) - 1) / (base - 1). We keep base 1.8 and 3 tries and pick
  // t0 so that the idle probe interval plus the whole retransmission fits in the
  // smallest dpdTimeoutSeconds: detection then never takes longer than Azure's.
  CharonSettings s;
  s.retransmit_base = 1.8;
  s.retransmit_tries = 3;
  const double budget = static_cast<double>(timeout - dpd_delay_for(timeout));
  const double factor = (std::pow(s.retransmit_base, s.retransmit_tries + 1) - 1.0) / (s.retransmit_base - 1.0);
  s.retransmit_timeout = std::max(0.5, std::floor(budget / factor * 100.0) / 100.0);
  s.comments.push_back("retransmission sized for dpdTimeoutSeconds " + std::to_string(timeout) +
                       " s: dpd_delay " + std::to_string(dpd_delay_for(timeout)) + " s + retransmissions <= " +
                       std::to_string(timeout) + " s");
  return s;
}

namespace {

IkeConnectionConfig build_ike(const ConnectionSpec& spec, const Tunnel& t) {
  const auto& c = spec.azure;
  bool is_default = false;
  const IpsecPolicy policy = effective_policy_or_default(c, is_default);

  IkeConnectionConfig ike;
  ike.name = t.name;
  ike.version = 2;
  ike.local_addrs = {t.local};
  ike.remote_addrs = {t.remote};
  ike.local_id = t.local_id;
  ike.remote_id = t.remote_id;
  if (is_default) {
    ike.proposals = azure_default_ike_proposals();
    ike.comments.push_back("no custom policy: Azure's default IKE offers in Azure's order (DH group 2, MODP-1024)");
  } else {
    ike.proposals = {ike_proposal(policy)};
    ike.comments.push_back("IKE proposal from ikeEncryption " + std::string(enum_name(policy.ike_encryption)) +
                           ", ikeIntegrity " + std::string(enum_name(policy.ike_integrity)) + ", dhGroup " +
                           std::string(enum_name(policy.dh_group)));
  }
  const auto l = ike_lifetimes();
  ike.rekey_time = l.rekey_time;
  ike.over_time = l.over_time;
  ike.rand_time = l.rand_time;
  ike.comments.push_back("IKE rekey between 23400 s and 25200 s, hard end 27900 s: always before Azure's "
                         "fixed 28800 s");
  ike.reauth_time = 0;  // IKEv2 rekeys inline; reauthentication would drop traffic
  ike.dpd_delay = dpd_delay_for(c.dpd_timeout_seconds);
  ike.comments.push_back("dpd_delay " + std::to_string(ike.dpd_delay) + " s = dpdTimeoutSeconds " +
                         std::to_string(c.dpd_timeout_seconds) + " / 3");
  ike.mobike = false;  // Azure's endpoints never move; MOBIKE support is not documented
  ike.unique = "replace";
  ike.keyingtries = 0;

  // connectionMode: InitiatorOnly = Azure dials, ResponderOnly = the on-prem
  // device dials, Default = both (docs/azure-facts.md, connection modes).
  const bool we_dial = c.connection_mode != ConnectionMode::InitiatorOnly;
  ike.pfs_group = is_default ? "None" : std::string(enum_name(policy.pfs_group));
  ike.peer_dials = c.connection_mode != ConnectionMode::ResponderOnly;
  const auto lifetimes = child_lifetimes(policy.sa_lifetime_seconds, policy.sa_data_size_kilobytes);
  for (const auto& sel : selectors_of(spec)) {
    ChildConfig child;
    child.name = t.name + sel.name_suffix;
    if (is_default) {
      child.esp_proposals = azure_default_esp_initiator_offers();
      child.comments.push_back("Azure's default quick-mode offers, in order, without PFS: Azure initiates rekeys "
                               "without PFS");
    } else {
      child.esp_proposals = {esp_proposal(policy)};
      child.comments.push_back("ESP proposal from ipsecEncryption " +
                               std::string(enum_name(policy.ipsec_encryption)) + ", ipsecIntegrity " +
                               std::string(enum_name(policy.ipsec_integrity)) + ", pfsGroup " +
                               std::string(enum_name(policy.pfs_group)));
    }
    child.local_ts = sel.local;
    child.remote_ts = sel.remote;
    child.life_time = lifetimes.life_time;
    child.rekey_time = lifetimes.rekey_time;
    child.rand_time = lifetimes.rand_time;
    child.life_bytes = lifetimes.life_bytes;
    child.rekey_bytes = lifetimes.rekey_bytes;
    child.comments.push_back("life_time = saLifeTimeSeconds " + std::to_string(policy.sa_lifetime_seconds) +
                             " s; rekey_time = 90 % of it, minus up to rand_time (5 %)");
    child.comments.push_back("life_bytes = saDataSizeKilobytes " + std::to_string(policy.sa_data_size_kilobytes) +
                             " KB x 1024; rekey_bytes = 90 %");
    child.start_action = we_dial ? "start" : "none";
    child.dpd_action = we_dial ? "restart" : "clear";
    child.close_action = we_dial ? "start" : "none";
    child.if_id = t.if_id;
    if (child.if_id != 0) {
      child.comments.push_back("route-based: XFRM interface id " + std::to_string(child.if_id) +
                               "; charon installs no routes, ergw does");
    }
    ike.children.push_back(std::move(child));
  }
  return ike;
}

// Routes into the tunnel when BGP does not provide them.
void add_static_routes(const ConnectionSpec& spec, const Tunnel& t, std::vector<TunnelRoute>& routes) {
  if (!is_route_based(spec.azure)) {
    // Policy-based: the kernel's policies catch the traffic wherever it is
    // routed, but a TUN data plane (libipsec) sees only what is routed into
    // it, so the VNet side of every pair is a route too (if_id 0: no interface).
    std::set<std::string> seen;
    for (const auto& sel : selectors_of(spec)) {
      for (const auto& remote : sel.remote) {
        if (!seen.insert(remote).second) continue;
        if (auto prefix = IpPrefix::parse(remote)) routes.push_back({*prefix, t.name, 0});
      }
    }
  } else if (!spec.azure.enable_bgp) {
    // Active-active: both instances' tunnels carry the VNet (ECMP), or the
    // preferred one while it is up; ergwd routes by the tunnels' state.
    const uint8_t preference = spec.preferred_instance && *spec.preferred_instance != t.instance ? 1 : 0;
    for (const auto& prefix : spec.gateway.vnet_prefixes) routes.push_back({prefix, t.name, t.if_id, preference});
  }
}

// One BGP session per tunnel: each Azure instance speaks BGP from its own
// address, reached through its own tunnel.
BgpPeerIntent bgp_intent(const ConnectionSpec& spec, const Tunnel& t, const IpAddress& azure) {
  BgpPeerIntent peer;
  peer.connection = t.name;
  peer.local_asn = *spec.local.asn;
  peer.peer_asn = spec.gateway.asn;
  peer.local_address = *spec.local.bgp_peering_address;
  peer.peer_address = azure;
  peer.preference = spec.preferred_instance && *spec.preferred_instance != t.instance ? 1 : 0;
  // With APIPA addresses Azure never opens the session: ergw must.
  peer.apipa = is_link_local_v4(peer.peer_address) || is_link_local_v4(peer.local_address);
  // Neither a GatewaySubnet address nor Azure's APIPA address is on a link
  // the appliance shares with Azure (the tunnel is unnumbered): multihop.
  peer.multihop = true;
  peer.hold_time_seconds = kAzureBgpHoldTimeSeconds;
  peer.keepalive_seconds = kAzureBgpKeepaliveSeconds;
  peer.export_prefixes = spec.local.prefixes;
  peer.vnet_prefixes = spec.gateway.vnet_prefixes;
  peer.if_id = t.if_id;
  peer.password = spec.bgp_password;
  return peer;
}

}  // namespace

CompiledConfiguration compile(const ApplianceConfig& config) {
  CompiledConfiguration out;
  const auto tunnels = assign_tunnels(config);
  int smallest_dpd = kAzureDefaultDpdTimeoutSeconds;
  for (size_t i = 0; i < config.connections.size(); ++i) {
    const auto& spec = config.connections[i];
    smallest_dpd = std::min(smallest_dpd, spec.azure.dpd_timeout_seconds);
    for (const auto& t : tunnels[i]) {
      out.connections.push_back(build_ike(spec, t));
      out.connections.back().pfs_probe = spec.pfs_probe.value_or(config.pfs_probe);
      out.connections.back().tcp_mss = spec.tcp_mss;
      out.secrets.push_back(secret_for(t, spec.azure.shared_key));
      add_static_routes(spec, t, out.routes);
    }
    if (spec.azure.enable_bgp && spec.local.asn && spec.local.bgp_peering_address) {
      if (tunnels[i].size() == 1) {
        out.bgp_peers.push_back(bgp_intent(spec, tunnels[i].front(), azure_bgp_address(spec).value_or(IpAddress{})));
      } else {
        for (const auto& t : tunnels[i]) {
          // An instance whose BGP address is not configured gets no session (validation warns).
          if (auto azure = azure_bgp_address_of_instance(spec, t.instance)) {
            out.bgp_peers.push_back(bgp_intent(spec, t, *azure));
          }
        }
      }
    }
  }
  out.charon = charon_settings_for_dpd(smallest_dpd);
  return out;
}

}  // namespace ergw::policy
