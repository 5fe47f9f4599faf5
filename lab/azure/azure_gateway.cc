#include "lab/azure/azure_gateway.h"

#include <algorithm>
#include <cmath>

#include "lab/azure/azure_offers.h"

namespace ergw::azure_lab {
namespace {

using policy::ConnectionMode;

// "IKE Main Mode SA lifetime is fixed at 28,800 seconds on the Azure VPN
// gateways." When Azure starts its own rekey is not documented; the lab
// rekeys at 90 % and ends the SA at 28,800 s.
constexpr int64_t kIkeSaLifetimeSeconds = 28'800;
// Without a custom policy: "SA Lifetime (Time) 27,000 seconds", "SA Lifetime
// (Bytes) 102,400,000 KB" for route-based gateways.
constexpr int64_t kDefaultChildLifetimeSeconds = 27'000;
constexpr int64_t kDefaultChildLifetimeKilobytes = 102'400'000;

std::vector<std::string> ike_proposals(const std::optional<policy::IpsecPolicy>& custom) {
  if (custom) return {custom_ike_proposal(*custom)};
  std::vector<std::string> out;
  for (const auto& offer : default_ike_offers()) out.push_back(strongswan_proposal(offer));
  return out;
}

std::vector<std::string> esp_proposals(const std::optional<policy::IpsecPolicy>& custom) {
  if (custom) return {custom_esp_proposal(*custom)};
  std::vector<std::string> out;
  for (const auto& offer : default_quick_mode_offers_as_initiator()) out.push_back(strongswan_proposal(offer));
  return out;
}

struct SelectorPair {
  std::string vnet;
  std::string onprem;
};

// "You must define all on-prem prefix <-> VNet prefix combinations": one
// CHILD SA per pair. trafficSelectorPolicies name them from Azure's side
// (localAddressRanges: the VNet); without them, the VNet's prefixes and the
// local network gateway's address space.
std::vector<SelectorPair> policy_based_pairs(const policy::ConnectionSpec& spec) {
  std::vector<SelectorPair> out;
  auto add = [&](const IpPrefix& vnet, const IpPrefix& onprem) {
    SelectorPair pair{vnet.to_string(), onprem.to_string()};
    for (const auto& p : out) {
      if (p.vnet == pair.vnet && p.onprem == pair.onprem) return;
    }
    out.push_back(pair);
  };
  if (!spec.azure.traffic_selector_policies.empty()) {
    for (const auto& ts : spec.azure.traffic_selector_policies) {
      for (const auto& vnet : ts.local_address_ranges) {
        for (const auto& onprem : ts.remote_address_ranges) add(vnet, onprem);
      }
    }
  } else {
    for (const auto& vnet : spec.gateway.vnet_prefixes) {
      for (const auto& onprem : spec.local.prefixes) add(vnet, onprem);
    }
  }
  return out;
}

std::vector<AzureChildSa> children_of(const policy::ConnectionSpec& spec, const AzureGatewayConfig& config,
                                      const std::optional<policy::IpsecPolicy>& custom, bool vnet_selectors) {
  AzureChildSa base;
  base.esp_proposals = esp_proposals(custom);
  base.life_time = custom ? custom->sa_lifetime_seconds : kDefaultChildLifetimeSeconds;
  const int64_t kilobytes = custom ? custom->sa_data_size_kilobytes : kDefaultChildLifetimeKilobytes;
  base.life_bytes = static_cast<uint64_t>(kilobytes) * 1024u;
  // When Azure rekeys before the end is not documented; the lab at 95 %.
  base.rekey_time = base.life_time / 20 * 19;
  base.rekey_bytes = base.life_bytes / 20 * 19;

  std::vector<AzureChildSa> out;
  if (!spec.azure.use_policy_based_traffic_selectors) {
    // Route-based: "configured as any-to-any (or wild cards)".
    AzureChildSa child = base;
    child.name = config.connection;
    child.local_ts = {"0.0.0.0/0", "::/0"};
    child.remote_ts = {"0.0.0.0/0", "::/0"};
    if (vnet_selectors && !spec.gateway.vnet_prefixes.empty()) {
      child.local_ts.clear();
      for (const auto& vnet : spec.gateway.vnet_prefixes) child.local_ts.push_back(vnet.to_string());
    }
    child.azure_initiates = config.dials;
    out.push_back(std::move(child));
    return out;
  }
  const auto pairs = policy_based_pairs(spec);
  for (size_t i = 0; i < pairs.size(); ++i) {
    AzureChildSa child = base;
    child.name = config.connection + "-pair" + std::to_string(i + 1);
    child.local_ts = {pairs[i].vnet};
    child.remote_ts = {pairs[i].onprem};
    child.azure_initiates = config.dials;
    out.push_back(std::move(child));
  }
  // "A VPN gateway accepts any traffic selectors proposed by a remote
  // gateway": a catch-all that charon narrows to what the peer proposes.
  AzureChildSa any = base;
  any.name = config.connection + "-accept";
  any.local_ts = {"0.0.0.0/0", "::/0"};
  any.remote_ts = {"0.0.0.0/0", "::/0"};
  out.push_back(std::move(any));
  return out;
}

// Azure gives up on a silent peer within dpdTimeoutSeconds (how it probes is
// not documented). The lab probes an idle peer every 10 s (a third of the
// timeout when that is shorter) and retransmits 3 times with base 2: the
// first wait t0 is chosen so that delay + t0 * (1 + 2 + 4 + 8) fits the timeout.
void set_dpd(AzureGatewayConfig& config, int timeout) {
  config.dpd_timeout_seconds = timeout;
  config.dpd_delay = std::max<int64_t>(1, std::min<int64_t>(10, timeout / 3));
  config.retransmit_tries = 3;
  config.retransmit_base = 2.0;
  const double budget = static_cast<double>(timeout - config.dpd_delay);
  config.retransmit_timeout = std::max(0.25, std::floor(budget / 15.0 * 100.0) / 100.0);
}

// The key as swanctl's 0x form: no quoting rules to get wrong.
std::string hex(const std::string& value) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (unsigned char c : value) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

}  // namespace

AzureGatewayConfig model_azure_gateway(const policy::ConnectionSpec& spec, const AzureGatewayOptions& options) {
  AzureGatewayConfig config;
  config.connection = spec.name;
  const auto& tunnels = spec.gateway.tunnel_ip_addresses;
  config.local_address = options.instance < tunnels.size() ? tunnels[options.instance].to_string() : "%any";
  config.remote_address = spec.local.address ? spec.local.address->to_string() : "%any";
  config.local_id = options.identity.empty() ? config.local_address : options.identity;
  config.remote_id = "%any";
  const auto custom = spec.azure.custom_policy();
  config.ike_proposals = ike_proposals(custom);
  config.initiator_offers_only = !custom.has_value();
  config.ike_rekey_time = kIkeSaLifetimeSeconds / 10 * 9;
  config.ike_over_time = kIkeSaLifetimeSeconds - config.ike_rekey_time;
  config.mode = spec.azure.connection_mode;
  config.dials = config.mode != ConnectionMode::ResponderOnly;
  config.accepts_initiation = config.mode != ConnectionMode::InitiatorOnly;
  set_dpd(config, spec.azure.dpd_timeout_seconds);
  config.children = children_of(spec, config, custom, options.vnet_selectors);
  config.shared_key = spec.azure.shared_key;
  config.xfrm_if_id = options.xfrm_if_id;
  return config;
}

namespace {

std::string render_connection(const AzureGatewayConfig& c) {
  std::string out;
  out += "    " + c.connection + " {\n";
  out += "        version = 2\n";
  out += "        local_addrs = " + c.local_address + "\n";
  out += "        remote_addrs = " + c.remote_address + "\n";
  out += "        proposals = " + list(c.ike_proposals) + "\n";
  out += "        # IKE SA lifetime fixed at 28800 s\n";
  out += "        rekey_time = " + std::to_string(c.ike_rekey_time) + "s\n";
  out += "        over_time = " + std::to_string(c.ike_over_time) + "s\n";
  out += "        rand_time = 0s\n";
  out += "        reauth_time = 0s\n";
  out += "        dpd_delay = " + std::to_string(c.dpd_delay) + "s\n";
  out += "        keyingtries = 0\n";
  out += "        mobike = no\n";
  out += "        unique = replace\n";
  out += "        local {\n            auth = psk\n            id = \"" + c.local_id + "\"\n        }\n";
  out += "        remote {\n            auth = psk\n            id = \"" + c.remote_id + "\"\n        }\n";
  out += "        children {\n";
  for (const auto& child : c.children) {
    out += "            " + child.name + " {\n";
    out += "                esp_proposals = " + list(child.esp_proposals) + "\n";
    out += "                local_ts = " + list(child.local_ts) + "\n";
    out += "                remote_ts = " + list(child.remote_ts) + "\n";
    out += "                life_time = " + std::to_string(child.life_time) + "s\n";
    out += "                rekey_time = " + std::to_string(child.rekey_time) + "s\n";
    out += "                rand_time = 0s\n";
    out += "                life_bytes = " + std::to_string(child.life_bytes) + "\n";
    out += "                rekey_bytes = " + std::to_string(child.rekey_bytes) + "\n";
    if (c.xfrm_if_id != 0) {
      out += "                if_id_in = " + std::to_string(c.xfrm_if_id) + "\n";
      out += "                if_id_out = " + std::to_string(c.xfrm_if_id) + "\n";
    }
    // Azure dials through the lab's watcher (AzureLab), never through
    // charon's start and close actions: strongSwan 5.9.8 closes the SAs of a
    // connection with start_action = start whenever its configuration is
    // replaced (a changed policy would reset the tunnel at the reload), and
    // close_action = start re-dials at every DELETE, even of one IKE SA of two
    // while the other carries the connection (the duplicate it creates is
    // deleted again by uniqueness, which re-dials again: a new IKE SA every
    // 10 s). A dead peer is re-dialled at once (dpd_action).
    const bool dial = child.azure_initiates;
    out += "                start_action = none\n";
    out += std::string("                dpd_action = ") + (dial ? "restart" : "clear") + "\n";
    out += "                close_action = none\n";
    out += "            }\n";
  }
  out += "        }\n    }\n";
  return out;
}

std::string render_secret(const AzureGatewayConfig& c, bool reveal_secret) {
  std::string out = "    ike-" + c.connection + " {\n        id-1 = \"" + c.local_id + "\"\n";
  out += "        secret = " + (reveal_secret ? hex(c.shared_key.reveal()) : std::string("<redacted>")) + "\n    }\n";
  return out;
}

}  // namespace

std::string render_azure_swanctl_conf(const std::vector<AzureGatewayConfig>& connections, bool reveal_secret) {
  std::string out;
  out += "# The simulated Azure VPN gateway (ergw lab): its own model of Azure, not ergw's compiler.\n";
  out += "connections {\n";
  for (const auto& c : connections) out += render_connection(c);
  out += "}\n\nsecrets {\n";
  for (const auto& c : connections) out += render_secret(c, reveal_secret);
  out += "}\n";
  return out;
}

std::string render_azure_swanctl_conf(const AzureGatewayConfig& config, bool reveal_secret) {
  return render_azure_swanctl_conf(std::vector<AzureGatewayConfig>{config}, reveal_secret);
}

std::string render_azure_charon_settings(const AzureGatewayConfig& c, int gateways) {
  auto number = [](double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  std::string out = "# The simulated Azure VPN gateway (ergw lab), read when its charon starts.\n";
  out += "charon {\n";
  out += "    # the peer is declared dead within dpdTimeoutSeconds " + std::to_string(c.dpd_timeout_seconds) + " s\n";
  out += "    retransmit_timeout = " + number(c.retransmit_timeout) + "\n";
  out += "    retransmit_base = " + number(c.retransmit_base) + "\n";
  out += "    retransmit_tries = " + std::to_string(c.retransmit_tries) + "\n";
  // The lab routes the Azure side the way charon does by default.
  out += "    install_routes = yes\n";
  if (c.dials) out += "    # Azure re-dials a connection it initiates\n    retry_initiate_interval = 3\n";
  if (gateways > 1) {
    // charon counts half-open IKE SAs per peer address and in total, over all
    // its connections: past block_threshold (5) from one address it drops
    // IKE_SA_INIT, past cookie_threshold (10) it asks for a cookie. The ergw
    // appliance dialling N Azure gateways opens one half-open IKE SA at each;
    // so that this one charon does not drop what N gateways would each take,
    // the limits are N times charon's defaults.
    out += "    # " + std::to_string(gateways) + " Azure gateways in one charon: each one's half-open limits\n";
    out += "    block_threshold = " + std::to_string(5 * gateways) + "\n";
    out += "    cookie_threshold = " + std::to_string(10 * gateways) + "\n";
  }
  if (!c.accepts_initiation) {
    out += "    # connectionMode InitiatorOnly: the peer's IKE_SA_INIT is ignored (rekeys are not)\n";
    out += "    initiator_only = yes\n";
  }
  out += "}\n";
  return out;
}

}  // namespace ergw::azure_lab
