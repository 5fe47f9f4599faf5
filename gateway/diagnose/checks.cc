#include "gateway/diagnose/checks.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace ergw::diagnose {

namespace {

const nlohmann::json kEmpty = nlohmann::json::object();

const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it == j.end() ? kEmpty : *it;
}

std::string text(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return "";
}

const nlohmann::json& status_connection(const nlohmann::json& status, const std::string& name) {
  for (const auto& c : member(status, "connections")) {
    if (text(c, "name") == name) return c;
  }
  return kEmpty;
}

const nlohmann::json& config_connection(const nlohmann::json& config, const std::string& name) {
  for (const auto& c : member(config, "connections")) {
    if (text(c, "name") == name) return c;
  }
  return kEmpty;
}

const nlohmann::json& azure_properties(const nlohmann::json& connection_config) {
  return member(member(connection_config, "azure"), "properties");
}

// `az ... -n NAME`: the Azure connection's own name when the pasted object has it.
std::string azure_name(const nlohmann::json& connection_config, const std::string& fallback) {
  const auto name = text(member(connection_config, "azure"), "name");
  return name.empty() ? "<" + fallback + "'s Azure connection>" : name;
}

bool established(const nlohmann::json& c) {
  const auto state = text(c, "state");
  return state == "UP" || state == "PARTIAL";
}

std::string last_error_code(const nlohmann::json& c) { return text(member(c, "last_error"), "code"); }

// "no proposal chosen (no_acceptable_proposal) at ...: observed ...; charon: ..."
std::string last_error_evidence(const nlohmann::json& c) {
  const auto& e = member(c, "last_error");
  std::string out = text(e, "reason") + " (" + text(e, "code") + ") at " + text(e, "at");
  if (!text(e, "observed").empty()) out += "; observed: " + text(e, "observed");
  if (!text(e, "detail").empty()) out += "; charon: " + text(e, "detail");
  return out;
}

std::string ike_summary(const nlohmann::json& c) {
  const auto& ike = member(c, "ike");
  std::string out = "IKE SA " + text(ike, "state") + " with " + text(ike, "remote");
  out += member(ike, "initiator").is_boolean() && member(ike, "initiator").get<bool>() ? " (ergw dialled)"
                                                                                      : " (Azure dialled)";
  const auto algorithms = text(ike, "encryption") + "/" + text(ike, "integrity") + "/" + text(ike, "prf") + "/" +
                          text(ike, "dh_group");
  out += ", " + algorithms;
  return out;
}

Finding finding(const std::string& check, const std::string& connection, Outcome result, std::string evidence,
                std::string fix = {}) {
  return Finding{check, connection, result, std::move(evidence), std::move(fix)};
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The troubleshooting path of one connection.
class ConnectionChecks {
 public:
  ConnectionChecks(const Evidence& evidence, const std::string& name, std::vector<Finding>& out)
      : e_(evidence),
        name_(name),
        status_(status_connection(evidence.status, name)),
        config_(config_connection(evidence.config, name)),
        props_(azure_properties(config_)),
        az_(azure_name(config_, name)),
        out_(out) {
    auto it = evidence.connections.find(name);
    if (it != evidence.connections.end()) probes_ = &it->second;
  }

  void run() {
    underlay();
    path_mtu();
    ike_reachability();
    proposal();
    authentication();
    traffic_selectors();
    pfs();
    dpd();
    bgp();
    unencrypted_path();
    mss_mtu();
  }

 private:
  void add(const std::string& check, Outcome result, std::string evidence, std::string fix = {}) {
    out_.push_back(finding(check, name_, result, std::move(evidence), std::move(fix)));
  }

  std::string remote() const { return text(status_, "remote"); }

  std::string private_address_fix() const {
    return "Azure's tunnel address over private peering is the gateway's private IP: `az network vnet-gateway show "
           "-g <resource-group> -n <gateway> --query \"ipConfigurations[].privateIpAddress\"` (the gateway needs "
           "enablePrivateIpAddress, the connection useLocalAzureIpAddress: `az network vpn-connection show -g "
           "<resource-group> -n " + az_ + " --query useLocalAzureIpAddress`); put it in the connection's "
           "azureGateway.tunnelIpAddresses, and route it over the ExpressRoute private peering on the customer "
           "edge (the GatewaySubnet must be announced over ExpressRoute)";
  }

  void underlay() {
    if (!probes_ || !probes_->underlay) {
      add("underlay", Outcome::skipped, "Azure's tunnel address " + remote() + " was not probed (not IPv4)");
      return;
    }
    const auto& u = *probes_->underlay;
    if (!u.error.empty()) {
      add("underlay", Outcome::skipped, "no ping could be sent to " + u.peer + ": " + u.error);
      return;
    }
    if (u.reachable) {
      add("underlay", Outcome::ok, "ping " + u.peer + " answered (" + std::to_string(u.small_sent) + " sent)");
      return;
    }
    std::string evidence = "ping " + u.peer + ": " + std::to_string(u.small_sent) + " of " +
                           std::to_string(u.small_sent) + " echoes unanswered (1 s each)";
    for (const auto& l : probes_->lookups) {
      if (l.address == u.peer) evidence += "; " + l.describe();
    }
    add("underlay", Outcome::fail, evidence,
        "Microsoft: from the on-premises device, ping the gateway's private IP; it must answer over the "
        "ExpressRoute private peering. Check the route to " + u.peer + " here (`ip route get " + u.peer +
            "`) and on the customer edge, the private peering's BGP (`az network express-route list-route-tables "
            "-g <resource-group> -n <circuit> --path primary --peering-name AzurePrivatePeering`). " +
            private_address_fix());
  }

  void path_mtu() {
    if (!probes_ || !probes_->underlay || !probes_->underlay->reachable) {
      add("path_mtu", Outcome::skipped, "Azure's tunnel address did not answer ping: the path MTU is unknown");
      return;
    }
    const auto& u = *probes_->underlay;
    if (u.largest_answered >= u.target) {
      add("path_mtu", Outcome::ok,
          "a " + std::to_string(u.target) + "-byte ping with DF set reached " + u.peer +
              ": the tunnel devices are sized for a " + std::to_string(u.target) + "-byte path");
      return;
    }
    std::string evidence = "with DF set, pings of " + std::to_string(u.largest_answered) + " bytes reach " + u.peer;
    if (u.smallest_lost) evidence += ", " + std::to_string(*u.smallest_lost) + " bytes and more do not";
    evidence += u.frag_needed_mtu ? "; ICMP fragmentation needed came back naming MTU " +
                                        std::to_string(*u.frag_needed_mtu)
                                  : "; no ICMP fragmentation needed came back (a PMTU black hole)";
    add("path_mtu", Outcome::fail, evidence,
        "ergw sizes the tunnel devices so that every ESP packet fits " + std::to_string(u.target) +
            " bytes (ExpressRoute's MTU); a smaller path drops the largest ESP packets, and Azure fragments "
            "nothing. Raise the MTU of every hop between the appliance and the ExpressRoute circuit (the "
            "customer edge's interfaces, provider links) to 1500, or lower this appliance's underlay interface "
            "MTU to " + std::to_string(u.largest_answered) +
            " (ergw then sees ICMP fragmentation needed for inner packets earlier; the MSS clamp keeps TCP below it)");
  }

  std::string port_evidence() const {
    std::string out;
    if (!probes_) return out;
    for (const auto& p : probes_->ike_ports) {
      out += "; UDP " + std::to_string(p.port) + ": ";
      if (!p.error.empty()) {
        out += p.error;
      } else {
        out += p.refused ? "ICMP port unreachable (nothing listens, or a firewall rejects)"
                         : "no ICMP error (something may listen, or a firewall drops silently)";
      }
    }
    return out;
  }

  bool port_refused() const {
    if (!probes_) return false;
    return std::any_of(probes_->ike_ports.begin(), probes_->ike_ports.end(),
                       [](const PortProbe& p) { return p.port == 500 && p.refused; });
  }

  void ike_reachability() {
    if (established(status_)) {
      add("ike_reachability", Outcome::ok, ike_summary(status_));
      return;
    }
    const bool underlay_down = probes_ && probes_->underlay && probes_->underlay->error.empty() &&
                               !probes_->underlay->reachable;
    const auto code = last_error_code(status_);
    if (port_refused() || code == "peer_unreachable") {
      std::string evidence = "tunnel " + text(status_, "state");
      if (code == "peer_unreachable") evidence += "; " + last_error_evidence(status_);
      evidence += port_evidence();
      std::string fix = underlay_down
                            ? "the underlay first: Azure's tunnel address does not answer ping (see underlay)"
                            : "Azure's gateway answers IKE on UDP 500 and 4500 of its tunnel address, and "
                              "ESP in UDP 4500: allow them both ways on every firewall between the appliance and "
                              "the private peering (an NSG or UDR on the GatewaySubnet is not supported). Check "
                              "that Azure has this connection on that address: `az network vpn-connection show "
                              "-g <resource-group> -n " + az_ +
                                  " --query \"{status:connectionStatus,useLocalAzureIpAddress:useLocalAzureIpAddress}\"`";
      add("ike_reachability", Outcome::fail, evidence, fix);
      return;
    }
    if (!member(status_, "initiates").is_boolean() || !member(status_, "initiates").get<bool>()) {
      add("ike_reachability", Outcome::warning,
          "tunnel " + text(status_, "state") + ", and ergw does not dial (connectionMode InitiatorOnly): it waits "
              "for Azure" + port_evidence(),
          "check Azure's side: `az network vpn-connection show -g <resource-group> -n " + az_ +
              " --query connectionStatus`; or set azure.properties.connectionMode to Default so ergw dials too");
      return;
    }
    if (!code.empty()) {
      add("ike_reachability", Outcome::ok,
          "Azure answered IKE: the failure came later (" + text(member(status_, "last_error"), "reason") + ")" +
              port_evidence());
      return;
    }
    add("ike_reachability", Outcome::warning, "tunnel " + text(status_, "state") + ", no failure yet" + port_evidence(),
        "run again in a few seconds: charon is still dialling");
  }

  void proposal() {
    const auto code = last_error_code(status_);
    const std::string policy_fix =
        "give both sides the same IPsec/IKE policy: compare `az network vpn-connection ipsec-policy list -g "
        "<resource-group> --connection-name " + az_ +
        "` with the connection's azure.properties.ipsecPolicies (ergw's `ergw policy compile` shows what it "
        "proposes); without a custom policy Azure offers IKE only with DHGroup2 (MODP-1024). Set Azure's with `az "
        "network vpn-connection ipsec-policy add ...` or paste Azure's policy into azure.properties.ipsecPolicies";
    if (established(status_)) {
      add("ike_proposal", Outcome::ok, "negotiated: " + ike_summary(status_));
      return;
    }
    if (code == "peer_refused_proposal" || code == "no_acceptable_proposal") {
      add("ike_proposal", Outcome::fail, last_error_evidence(status_), policy_fix);
      return;
    }
    add("ike_proposal", Outcome::skipped,
        "no IKE SA, and no proposal was refused" + (code.empty() ? std::string() : " (last error: " + code + ")"));
  }

  void authentication() {
    const auto code = last_error_code(status_);
    const std::string key_fix =
        "the pre-shared key must be Azure's: `az network vpn-connection shared-key show -g <resource-group> "
        "--connection-name " + az_ + "`; set it in ergw as the connection's azure.properties.sharedKey (or "
        "sharedKeyFile, or PUT /v1/connections/" + name_ + "/sharedkey), or Azure's with `az network "
        "vpn-connection shared-key update -g <resource-group> --connection-name " + az_ + " --value ...`";
    if (established(status_)) {
      add("psk", Outcome::ok, "authenticated both ways: " + ike_summary(status_));
      return;
    }
    if (code == "psk_mismatch") {
      add("psk", Outcome::fail, "the identities matched but the key did not: " + last_error_evidence(status_),
          key_fix);
      return;
    }
    if (code == "peer_refused_authentication") {
      add("psk", Outcome::fail,
          "Azure refused ergw's authentication (Azure does not say why; the key is the usual cause): " +
              last_error_evidence(status_),
          key_fix + ". If the keys match, compare the identities in the evidence with Azure's (local.ikeIdentity, "
                    "azureGateway.ikeIdentity)");
      return;
    }
    if (code == "no_psk_for_identities" || code == "no_connection_for_identities" ||
        code == "local_identity_refused" || code == "identity_constraint_failed") {
      add("psk", Outcome::fail, "an identity differs: " + last_error_evidence(status_),
          "set the connection's local.ikeIdentity and azureGateway.ikeIdentity to what Azure presents and expects "
          "(by default both tunnel addresses), or make Azure use its tunnel address");
      return;
    }
    add("psk", Outcome::skipped, "not authenticated yet, and no authentication failure reported");
  }

  void traffic_selectors() {
    const auto code = last_error_code(status_);
    const bool policy_based = member(props_, "usePolicyBasedTrafficSelectors").is_boolean() &&
                              props_["usePolicyBasedTrafficSelectors"].get<bool>();
    const std::string fix =
        std::string("usePolicyBasedTrafficSelectors must be the same on both sides (ergw: ") +
        (policy_based ? "true" : "false") + "; Azure: `az network vpn-connection show -g <resource-group> -n " + az_ +
        " --query usePolicyBasedTrafficSelectors`, set with `az network vpn-connection update ... "
        "--use-policy-based-traffic-selectors`); policy-based, each pair of local.prefixes and "
        "azureGateway.vnetPrefixes must be a pair of Azure's (trafficSelectorPolicies: `az network vpn-connection "
        "show ... --query trafficSelectorPolicies`)";
    std::vector<std::string> missing;
    for (const auto& child : member(status_, "configured_children")) {
      if (text(child, "coverage") != "installed") missing.push_back(text(child, "name") + " (" + text(child, "coverage") + ")");
    }
    if (code == "traffic_selectors_unacceptable") {
      add("traffic_selectors", Outcome::fail, last_error_evidence(status_), fix);
      return;
    }
    if (text(status_, "state") == "PARTIAL") {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      add("traffic_selectors", Outcome::fail,
          "the IKE SA is up but these prefix pairs have no CHILD SA: " + list +
              " (Azure proposes only its own pairs, and refuses none)",
          fix);
      return;
    }
    if (text(status_, "state") == "UP") {
      std::string selectors;
      for (const auto& child : member(status_, "children")) {
        selectors += (selectors.empty() ? "" : "; ") + member(child, "local_ts").dump() + " <=> " +
                     member(child, "remote_ts").dump();
      }
      add("traffic_selectors", Outcome::ok,
          std::string(policy_based ? "policy-based" : "route-based") + ", every CHILD installed: " + selectors);
      return;
    }
    add("traffic_selectors", Outcome::skipped, "no IKE SA: the selectors were not negotiated");
  }

  void pfs() {
    const auto& p = member(status_, "pfs");
    const auto probe = text(p, "probe");
    const std::string group = text(p, "pfs_group");
    if (probe == "mismatch") {
      add("pfs", Outcome::fail, text(p, "finding") + (text(p, "detail").empty() ? "" : "; charon: " + text(p, "detail")),
          "give both sides the same PFS group: Azure's ipsecPolicies[].pfsGroup (`az network vpn-connection "
          "ipsec-policy add ... --pfs-group`) and ergw's azure.properties.ipsecPolicies[].pfsGroup");
    } else if (probe == "verified") {
      add("pfs", Outcome::ok, "Azure accepted a CHILD rekey with ergw's PFS setting (pfsGroup " + group + ") at " +
                                   text(p, "verified_at"));
    } else if (probe == "off") {
      add("pfs", Outcome::skipped, "the PFS probe is off (pfsProbe false): a mismatch shows only at Azure's rekey",
          "");
    } else if (probe == "inconclusive") {
      add("pfs", Outcome::warning, "the probe was inconclusive: " + text(p, "detail"),
          "run again once the tunnel is UP");
    } else {
      add("pfs", Outcome::skipped,
          "not probed yet (" + (probe.empty() ? std::string("no CHILD SA") : probe) + "): the probe runs a second "
          "after the first CHILD SA of an IKE SA comes up");
    }
  }

  void dpd() {
    const auto& t = member(props_, "dpdTimeoutSeconds");
    const int timeout = t.is_number_integer() && t.get<int>() > 0 ? t.get<int>() : 45;
    const std::string setting = "dpdTimeoutSeconds " + std::to_string(timeout) + " s" +
                                (t.is_number_integer() && t.get<int>() > 0 ? "" : " (not set: Azure's default)");
    const auto& failures = member(status_, "failures");
    const int unreachable =
        member(failures, "peer_unreachable").is_number_integer() ? failures["peer_unreachable"].get<int>() : 0;
    const int deleted =
        member(failures, "deleted_by_peer").is_number_integer() ? failures["deleted_by_peer"].get<int>() : 0;
    std::string evidence = setting + "; since ergwd started: peer declared dead " + std::to_string(unreachable) +
                           " times, IKE SA deleted by Azure " + std::to_string(deleted) + " times";
    const std::string fix_timeout =
        "Microsoft recommends 30 to 45 s; shorter makes the connection flap: set azure.properties.dpdTimeoutSeconds "
        "and Azure's (`az network vpn-connection update -g <resource-group> -n " + az_ + " --set dpdTimeoutSeconds=45`)";
    if (timeout < 30) {
      add("dpd", Outcome::warning, evidence, fix_timeout);
    } else if (established(status_) && (unreachable > 0 || deleted > 0)) {
      add("dpd", Outcome::warning, evidence + " (the tunnel is up again now)",
          "drops of the underlay or Azure's gateway maintenance (a single short disconnect) end tunnels; an "
          "active-active gateway keeps one tunnel up. Look at the times in ergwd's log and Azure's connection "
          "health: `az network vpn-connection show -g <resource-group> -n " + az_ + " --query connectionStatus`");
    } else {
      add("dpd", Outcome::ok, evidence);
    }
  }

  void bgp() {
    const auto& bgp = member(e_.status, "bgp");
    const nlohmann::json* session = nullptr;
    for (const auto& s : member(bgp, "sessions")) {
      if (text(s, "connection") == name_) session = &s;
    }
    if (session == nullptr) {
      add("bgp_session", Outcome::skipped, "BGP is not enabled on this connection (azure.properties.enableBgp)");
      add("bgp_routes", Outcome::skipped, "no BGP: Azure's prefixes are the configured azureGateway.vnetPrefixes");
      return;
    }
    const auto& s = *session;
    const std::string who = "BGP " + text(s, "local") + " AS " + text(s, "local_as") + " -> " + text(s, "neighbor") +
                            " AS " + text(s, "neighbor_as");
    const auto state = text(s, "state");
    if (state == "Established") {
      add("bgp_session", Outcome::ok, who + ": Established for " + text(s, "uptime_seconds") + " s");
    } else if (!member(s, "tunnel_up").is_boolean() || !s["tunnel_up"].get<bool>()) {
      add("bgp_session", Outcome::skipped, who + ": " + state + " (the tunnel is down; the session waits for it)");
    } else {
      std::string evidence = who + ": " + state;
      if (!text(s, "last_error").empty()) evidence += "; BIRD: " + text(s, "last_error");
      if (!text(s, "last_error_hint").empty()) evidence += "; " + text(s, "last_error_hint");
      add("bgp_session", Outcome::fail, evidence,
          "Azure's ASN and BGP address are `az network vnet-gateway show -g <resource-group> -n <gateway> --query "
          "bgpSettings` (ergw: azureGateway.bgpSettings.asn and bgpPeeringAddress); ergw's must be what Azure's "
          "local network gateway has (`az network local-gateway show -g <resource-group> -n <local-gateway> --query "
          "bgpSettings`; ergw: local.asn and local.bgpPeeringAddress); enableBgp on both");
    }
    int learned = 0;
    for (const auto& r : member(bgp, "routes")) {
      if (text(r, "connection") == name_) ++learned;
    }
    const auto in = text(s, "prefixes_in");
    if (state != "Established") {
      add("bgp_routes", Outcome::skipped, "no session: nothing learned");
    } else if (learned == 0) {
      add("bgp_routes", Outcome::warning, who + ": Established but no prefix learned (prefixes_in " + in + ")",
          "Azure announces the VNet's address space and its peerings; check `az network vnet-gateway "
          "list-advertised-routes -g <resource-group> -n <gateway> --peer " + text(s, "local") + "`");
    } else {
      add("bgp_routes", Outcome::ok, std::to_string(learned) + " prefixes learned from Azure, " + text(s, "prefixes_out") +
                                         " announced");
    }
  }

  void unencrypted_path() {
    const auto prefixes = azure_prefixes(e_.status, name_);
    const auto devices = tunnel_devices(e_.status, name_);
    if (prefixes.empty()) {
      add("unencrypted_path", Outcome::skipped, "no prefix of Azure's is routed yet");
      return;
    }
    if (!e_.kernel_routes_error.empty()) {
      add("unencrypted_path", Outcome::skipped, "the kernel's routes could not be read: " + e_.kernel_routes_error);
      return;
    }
    std::vector<std::string> leaks;
    std::vector<std::string> fine;
    for (const auto& lookup : probes_ ? probes_->lookups : std::vector<RouteLookup>{}) {
      auto address = IpAddress::parse(lookup.address);
      if (!address || lookup.address == remote()) continue;
      const bool in_azure = std::any_of(prefixes.begin(), prefixes.end(),
                                        [&](const IpPrefix& p) { return p.contains(*address); });
      if (!in_azure) continue;
      if (lookup.error.empty() && contains(devices, lookup.device)) {
        fine.push_back(lookup.describe());
        continue;
      }
      std::string leak = lookup.describe();
      // The kernel's most specific route for it that is not the tunnel's.
      const KernelRoute* cause = nullptr;
      for (const auto& r : e_.kernel_routes) {
        if (!r.prefix.contains(*address) || contains(devices, r.device)) continue;
        if (cause == nullptr || r.prefix.length() > cause->prefix.length()) cause = &r;
      }
      if (cause) leak += " (route " + cause->describe() + ")";
      leaks.push_back(leak);
    }
    std::string list;
    for (const auto& p : prefixes) list += (list.empty() ? "" : ", ") + p.to_string();
    if (!leaks.empty()) {
      std::string evidence = "Azure's prefixes " + list + " should leave by the tunnel (" +
                             (devices.empty() ? std::string("no device") : devices.front()) + "), but: ";
      for (size_t i = 0; i < leaks.size(); ++i) evidence += (i ? "; " : "") + leaks[i];
      add("unencrypted_path", Outcome::fail, evidence,
          "a route as long as or longer than the tunnel's sends Azure's prefixes past the tunnel, unencrypted (over "
          "the ExpressRoute private peering itself when it is ExpressRoute's route). Remove it or make it shorter "
          "than the tunnel's (`ip route del ...`; on the customer edge, filter the VNet prefixes learned over "
          "ExpressRoute from what it passes to this appliance). Microsoft: if the same prefixes are announced over "
          "ExpressRoute and the VPN, Azure uses ExpressRoute unencrypted; announce more specific prefixes over the "
          "VPN (local.prefixes, and list ExpressRoute's in local.expressRoutePrefixes so ergw warns)");
      return;
    }
    if (fine.empty()) {
      add("unencrypted_path", Outcome::skipped, "no route lookup was made for " + list);
      return;
    }
    std::string evidence = "every address looked up in " + list + " leaves by the tunnel: ";
    for (size_t i = 0; i < fine.size(); ++i) evidence += (i ? "; " : "") + fine[i];
    add("unencrypted_path", Outcome::ok, evidence);
  }

  void mss_mtu() {
    const auto& mtus = member(member(e_.status, "data_plane"), "tunnel_mtu");
    std::string evidence;
    for (const auto& m : mtus) {
      if (text(m, "connection") == name_ || contains(tunnel_devices(e_.status, name_), text(m, "device"))) {
        evidence += (evidence.empty() ? "" : "; ") + text(m, "device") + " MTU " + text(m, "mtu") + " (" +
                    text(m, "why") + ")";
      }
    }
    if (evidence.empty()) evidence = "no tunnel device MTU reported";
    // The MSS clamp as ergwd reports it (data_plane.mss_clamp, docs/ergwd.md).
    const auto& clamp = member(member(e_.status, "data_plane"), "mss_clamp");
    for (const auto& c : member(clamp, "connections")) {
      if (text(c, "connection") == name_ && member(c, "mss").is_number_integer() && c["mss"].get<int>() > 0) {
        add("mss_mtu", Outcome::ok, evidence + "; forwarded TCP SYNs into and out of " + text(c, "device") +
                                        " clamped to MSS " + text(c, "mss") + " (" + text(c, "why") + ")");
        return;
      }
    }
    const std::string clamp_error = text(clamp, "error");
    add("mss_mtu", Outcome::warning,
        evidence + "; no TCP MSS clamp" + (clamp_error.empty() ? "" : " (" + clamp_error + ")"),
        "Azure asks for TCP MSS 1350 (or a tunnel MTU of 1400): without a clamp, TCP relies on ICMP fragmentation "
        "needed from this appliance, which on-premises firewalls often drop. Set the connection's tcpMss (ergw "
        "clamps with nftables, docs/ergwd.md)");
  }

  const Evidence& e_;
  std::string name_;
  const nlohmann::json& status_;
  const nlohmann::json& config_;
  const nlohmann::json& props_;
  std::string az_;
  const ConnectionEvidence* probes_ = nullptr;
  std::vector<Finding>& out_;
};

void clock(const Evidence& e, std::vector<Finding>& out) {
  const auto& c = e.clock;
  if (!c.read) {
    out.push_back(finding("clock", "", Outcome::skipped, "the kernel's clock state could not be read: " + c.error));
    return;
  }
  const std::string limits =
      "IKEv2 with pre-shared keys carries no timestamp, so a skew against Azure cannot be measured from here and "
      "does not fail authentication; it would with certificates, and it misaligns ergw's logs with Azure's "
      "diagnostics";
  if (c.synchronised) {
    out.push_back(finding("clock", "", Outcome::ok,
                          "the kernel's clock is synchronised (estimated error " +
                              std::to_string(c.estimated_error_us) + " us, at most " + std::to_string(c.max_error_us) +
                              " us). " + limits));
  } else {
    out.push_back(finding("clock", "", Outcome::warning,
                          "the kernel's clock is not synchronised (adjtimex: STA_UNSYNC set; maximum error " +
                              std::to_string(c.max_error_us) + " us). " + limits,
                          "run an NTP client (chrony or systemd-timesyncd: `timedatectl set-ntp true`, "
                          "`timedatectl timesync-status`)"));
  }
}

}  // namespace

std::vector<IpPrefix> azure_prefixes(const nlohmann::json& status, const std::string& connection) {
  std::set<IpPrefix> out;
  for (const auto& r : member(status_connection(status, connection), "routes")) {
    if (auto p = IpPrefix::parse(text(r, "prefix"), true)) out.insert(*p);
  }
  for (const auto& r : member(member(status, "bgp"), "routes")) {
    if (text(r, "connection") != connection) continue;
    if (auto p = IpPrefix::parse(text(r, "prefix"), true)) out.insert(*p);
  }
  std::vector<IpPrefix> v4;
  for (const auto& p : out) {
    if (p.is_v4()) v4.push_back(IpPrefix(p.network().masked(p.length()), p.length()));
  }
  return v4;
}

std::vector<std::string> tunnel_devices(const nlohmann::json& status, const std::string& connection) {
  std::vector<std::string> out;
  const auto add = [&](const std::string& d) {
    if (!d.empty() && !contains(out, d)) out.push_back(d);
  };
  const auto& c = status_connection(status, connection);
  add(text(c, "device"));
  for (const auto& r : member(c, "routes")) add(text(r, "device"));
  for (const auto& r : member(member(status, "bgp"), "routes")) {
    if (text(r, "connection") == connection) add(text(r, "device"));
  }
  return out;
}

std::vector<IpAddress> sample_addresses(const std::vector<IpPrefix>& prefixes, const std::vector<KernelRoute>& routes,
                                        const std::vector<std::string>& devices) {
  std::vector<IpAddress> out;
  const auto first_host = [](const IpPrefix& p) {
    if (p.length() >= 31) return p.network();
    return IpAddress::v4(p.network().v4_host_order() + 1);
  };
  const auto add = [&](const IpAddress& a) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  };
  for (const auto& p : prefixes) {
    if (!p.is_v4()) continue;
    add(first_host(p));
    for (const auto& r : routes) {
      if (p.contains(r.prefix) && !contains(devices, r.device)) add(first_host(r.prefix));
    }
  }
  return out;
}

std::vector<Finding> run_checks(const Evidence& evidence) {
  std::vector<Finding> out;
  for (const auto& c : member(evidence.status, "connections")) {
    const auto name = text(c, "name");
    if (!evidence.only.empty() && name != evidence.only) continue;
    ConnectionChecks(evidence, name, out).run();
  }
  clock(evidence, out);
  return out;
}

}  // namespace ergw::diagnose
