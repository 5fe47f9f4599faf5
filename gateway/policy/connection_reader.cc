#include "gateway/policy/connection_reader.h"

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>

#include "common/parse_json.h"
#include "gateway/policy/azure_facts.h"
#include "gateway/policy/connection_members.h"
#include "gateway/policy/json_fields.h"

namespace ergw::policy {
namespace {

// Azure's read-only or irrelevant members of a connection (ARM
// VirtualNetworkGatewayConnection and the az CLI's additions).
void ignore_connection_read_only(JsonFields& f) {
  f.ignore({"id", "etag", "type", "location", "tags", "resourceGroup", "provisioningState", "resourceGuid",
            "ingressBytesTransferred", "egressBytesTransferred", "connectionStatus", "tunnelConnectionStatus",
            "virtualNetworkGateway1", "virtualNetworkGateway2", "localNetworkGateway2", "peer", "routingWeight",
            "expressRouteGatewayBypass", "enablePrivateLinkFastPath", "authorizationKey", "systemData",
            "extendedLocation", "authenticationType", "tunnelProperties", "connectionStatusDetails",
            "name", "properties"});
}

std::optional<uint32_t> read_asn(JsonFields& f, std::string_view key, Diagnostics& diagnostics) {
  auto asn = f.integer(key);
  if (!asn) return std::nullopt;
  // The ARM spec types BgpSettings.asn as int64 from 0 to 4294967295.
  if (*asn < 0 || *asn > 4294967295LL) {
    diagnostics.error(f.path_of(key), std::to_string(*asn) + " is not an AS number; allowed: 1..4294967295");
    return std::nullopt;
  }
  return static_cast<uint32_t>(*asn);
}

std::vector<TrafficSelectorPolicy> read_traffic_selectors(JsonFields& f, Diagnostics& diagnostics) {
  std::vector<TrafficSelectorPolicy> out;
  const auto* list = f.array("trafficSelectorPolicies");
  if (list == nullptr) return out;
  for (size_t i = 0; i < list->size(); ++i) {
    const auto path = f.path_of("trafficSelectorPolicies") + "[" + std::to_string(i) + "]";
    JsonFields entry((*list)[i], path, diagnostics);
    TrafficSelectorPolicy ts;
    // Both required in the ARM schema.
    for (auto key : {"localAddressRanges", "remoteAddressRanges"}) {
      if (!entry.has(key)) diagnostics.error(path + "." + key, "missing; a traffic selector policy needs both "
                                                               "localAddressRanges and remoteAddressRanges");
    }
    ts.local_address_ranges = entry.prefixes("localAddressRanges");
    ts.remote_address_ranges = entry.prefixes("remoteAddressRanges");
    entry.warn_unknown();
    out.push_back(std::move(ts));
  }
  return out;
}

std::vector<CustomBgpAddress> read_custom_bgp_addresses(JsonFields& f, Diagnostics& diagnostics) {
  std::vector<CustomBgpAddress> out;
  const auto* list = f.array("gatewayCustomBgpIpAddresses");
  if (list == nullptr) return out;
  for (size_t i = 0; i < list->size(); ++i) {
    JsonFields entry((*list)[i], f.path_of("gatewayCustomBgpIpAddresses") + "[" + std::to_string(i) + "]",
                     diagnostics);
    auto address = entry.address("customBgpIpAddress");
    if (!entry.has("customBgpIpAddress")) {
      diagnostics.error(entry.path_of("customBgpIpAddress"), "missing; each entry needs its APIPA address");
    }
    auto config_id = entry.string("ipConfigurationId");
    entry.warn_unknown();
    if (address) out.push_back({config_id.value_or(""), *address});
  }
  return out;
}

const char* const kPolicyFields[] = {"saLifeTimeSeconds", "saDataSizeKilobytes", "ipsecEncryption",
                                     "ipsecIntegrity",    "ikeEncryption",       "ikeIntegrity",
                                     "dhGroup",           "pfsGroup"};

}  // namespace

std::optional<IpsecPolicyInput> read_ipsec_policy(const nlohmann::json& object, const std::string& path,
                                                  Diagnostics& diagnostics) {
  if (!object.is_object()) {
    diagnostics.error(path, "must be an object with the eight policy fields, not " + json_type_name(object));
    return std::nullopt;
  }
  JsonFields f(object, path, diagnostics);
  // "Partial policy specification isn't allowed" (docs/azure-facts.md, custom policies).
  for (const char* key : kPolicyFields) {
    if (!f.has(key)) {
      diagnostics.error(f.path_of(key), "missing; a custom policy needs all eight fields (" +
                                            std::string("saLifeTimeSeconds, saDataSizeKilobytes, ipsecEncryption, "
                                                        "ipsecIntegrity, ikeEncryption, ikeIntegrity, dhGroup, "
                                                        "pfsGroup") +
                                            "): Azure refuses a partial policy");
    }
  }
  // Every field is read even when another is bad, so that each problem is
  // reported and the rules still see every value that was valid.
  IpsecPolicyInput policy;
  policy.sa_lifetime_seconds = f.integer("saLifeTimeSeconds");
  policy.sa_data_size_kilobytes = f.integer("saDataSizeKilobytes");
  const auto& lifetime = policy.sa_lifetime_seconds;
  const auto& datasize = policy.sa_data_size_kilobytes;
  // Azure's minimums; the REST type is int32 (docs/azure-facts.md, lifetimes).
  if (lifetime && (*lifetime < kAzureMinSaLifetimeSeconds || *lifetime > kArmInt32Max)) {
    diagnostics.error(f.path_of("saLifeTimeSeconds"),
                      std::to_string(*lifetime) + " is out of range; allowed: " +
                          std::to_string(kAzureMinSaLifetimeSeconds) + ".." + std::to_string(kArmInt32Max) +
                          " seconds (Azure's default " + std::to_string(kAzureDefaultSaLifetimeSeconds) + ")");
    policy.sa_lifetime_seconds.reset();
  } else if (lifetime && *lifetime > kAzurePowerShellMaxSaLifetimeSeconds) {
    diagnostics.warning(f.path_of("saLifeTimeSeconds"),
                        std::to_string(*lifetime) + " s is over the " +
                            std::to_string(kAzurePowerShellMaxSaLifetimeSeconds) +
                            " s that Azure's PowerShell accepts",
                        "use a value between " + std::to_string(kAzureMinSaLifetimeSeconds) + " and " +
                            std::to_string(kAzurePowerShellMaxSaLifetimeSeconds) + " (Azure's default is " +
                            std::to_string(kAzureDefaultSaLifetimeSeconds) + ")");
  }
  if (datasize && (*datasize < kAzureMinSaDataSizeKilobytes || *datasize > kArmInt32Max)) {
    diagnostics.error(f.path_of("saDataSizeKilobytes"),
                      std::to_string(*datasize) + " is out of range; allowed: " +
                          std::to_string(kAzureMinSaDataSizeKilobytes) + ".." + std::to_string(kArmInt32Max) +
                          " KB (Azure's default " + std::to_string(kAzureDefaultSaDataSizeKilobytes) + ")");
    policy.sa_data_size_kilobytes.reset();
  }
  policy.ipsec_encryption = f.enumeration<IpsecEncryption>("ipsecEncryption");
  policy.ipsec_integrity = f.enumeration<IpsecIntegrity>("ipsecIntegrity");
  policy.ike_encryption = f.enumeration<IkeEncryption>("ikeEncryption");
  policy.ike_integrity = f.enumeration<IkeIntegrity>("ikeIntegrity");
  policy.dh_group = f.enumeration<DhGroup>("dhGroup");
  policy.pfs_group = f.enumeration<PfsGroup>("pfsGroup");
  f.warn_unknown();
  return policy;
}

std::optional<IpsecPolicyInput> read_ipsec_policy_args(std::string_view text, const std::string& path,
                                                  Diagnostics& diagnostics) {
  static const std::map<std::string, std::string> kAliases = {
      {"sa-lifetime", "saLifeTimeSeconds"},       {"sa-life-time-seconds", "saLifeTimeSeconds"},
      {"sa-max-size", "saDataSizeKilobytes"},     {"sa-data-size-kilobytes", "saDataSizeKilobytes"},
      {"dh-group", "dhGroup"},                    {"pfs-group", "pfsGroup"},
      {"ike-encryption", "ikeEncryption"},        {"ike-integrity", "ikeIntegrity"},
      {"ipsec-encryption", "ipsecEncryption"},    {"ipsec-integrity", "ipsecIntegrity"}};
  // Split on white space and commas.
  std::vector<std::string> words;
  std::string current;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == ',') {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) words.push_back(std::move(current));

  nlohmann::json object = nlohmann::json::object();
  auto add = [&](std::string key, const std::string& value) {
    while (!key.empty() && key.front() == '-') key.erase(key.begin());
    std::string canonical = key;
    for (const auto& [alias, arm] : kAliases) {
      if (equals_ignoring_case(alias, key)) canonical = arm;
    }
    for (const char* arm : kPolicyFields) {
      if (equals_ignoring_case(arm, key)) canonical = arm;
    }
    bool numeric = !value.empty() && value.size() < 12 &&
                   std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (numeric) {
      object[canonical] = std::stoll(value);
    } else {
      object[canonical] = value;
    }
  };
  for (size_t i = 0; i < words.size(); ++i) {
    const auto& word = words[i];
    auto eq = word.find('=');
    if (eq != std::string::npos) {
      add(word.substr(0, eq), word.substr(eq + 1));
    } else if (word.rfind("--", 0) == 0 && i + 1 < words.size()) {
      add(word, words[i + 1]);
      ++i;
    } else {
      diagnostics.error(path, "cannot read \"" + word + "\": expected key=value or --flag value");
      return std::nullopt;
    }
  }
  return read_ipsec_policy(object, path, diagnostics);
}

AzureConnection read_azure_connection(const nlohmann::json& object, const std::string& path,
                                      Diagnostics& diagnostics) {
  AzureConnection c;
  if (!object.is_object()) {
    diagnostics.error(path, "must be an Azure connection object, not " + json_type_name(object));
    return c;
  }
  JsonFields top(object, path, diagnostics);
  if (auto name = top.string("name")) c.name = *name;
  // ARM shape: the fields live under "properties".
  const nlohmann::json* properties = top.object("properties");
  const nlohmann::json& fields_object = properties != nullptr ? *properties : object;
  const std::string fields_path = properties != nullptr ? top.path_of("properties") : path;
  if (properties != nullptr) {
    ignore_connection_read_only(top);
    top.warn_unknown();
  }
  JsonFields f(fields_object, fields_path, diagnostics);
  c.source_path = fields_path;
  ignore_connection_read_only(f);

  if (!f.has("connectionType")) {
    diagnostics.note(f.path_of("connectionType"), "not given; taken as IPsec (site-to-site)");
  }
  if (auto v = f.enumeration<ConnectionType>("connectionType")) c.connection_type = *v;
  if (auto v = f.enumeration<ConnectionProtocol>("connectionProtocol")) c.connection_protocol = *v;
  if (auto v = f.string("sharedKey")) c.shared_key = Secret(*v);
  if (const auto* list = f.array("ipsecPolicies")) {
    c.ipsec_policy_path = f.path_of("ipsecPolicies") + "[0]";
    if (list->size() > 1) {
      // Azure takes one policy combination per connection (docs/azure-facts.md, custom policies).
      diagnostics.error(f.path_of("ipsecPolicies"), std::to_string(list->size()) +
                                                        " policies given; Azure allows exactly one policy per "
                                                        "connection");
    }
    if (!list->empty()) c.ipsec_policy = read_ipsec_policy((*list)[0], c.ipsec_policy_path, diagnostics);
  }
  if (auto v = f.integer("dpdTimeoutSeconds")) {
    if (*v == 0) {
      // az prints 0 for a connection created without the setting.
      diagnostics.note(f.path_of("dpdTimeoutSeconds"), "0 means not set; Azure's default of " +
                                                           std::to_string(kAzureDefaultDpdTimeoutSeconds) +
                                                           " s applies");
    } else if (*v < kAzureMinDpdTimeoutSeconds || *v > kAzureMaxDpdTimeoutSeconds) {
      diagnostics.error(f.path_of("dpdTimeoutSeconds"),
                        std::to_string(*v) + " is out of range; allowed: " +
                            std::to_string(kAzureMinDpdTimeoutSeconds) + ".." +
                            std::to_string(kAzureMaxDpdTimeoutSeconds) + " seconds (Azure's default " +
                            std::to_string(kAzureDefaultDpdTimeoutSeconds) + ")");
    } else {
      c.dpd_timeout_seconds = static_cast<int>(*v);
    }
  }
  if (auto v = f.enumeration<ConnectionMode>("connectionMode")) c.connection_mode = *v;
  if (auto v = f.boolean("usePolicyBasedTrafficSelectors")) c.use_policy_based_traffic_selectors = *v;
  c.traffic_selector_policies = read_traffic_selectors(f, diagnostics);
  if (auto v = f.boolean("enableBgp")) c.enable_bgp = *v;
  if (auto v = f.boolean("useLocalAzureIpAddress")) c.use_local_azure_ip_address = *v;
  c.gateway_custom_bgp_ip_addresses = read_custom_bgp_addresses(f, diagnostics);
  for (auto key : {"ingressNatRules", "egressNatRules"}) {
    if (const auto* rules = f.array(key); rules != nullptr && !rules->empty()) c.nat_rule_paths.push_back(f.path_of(key));
  }
  f.warn_unknown();
  return c;
}

namespace {

bool is_private_address(const IpAddress& a) {
  static const IpPrefix kPrivate[] = {*IpPrefix::parse("10.0.0.0/8"), *IpPrefix::parse("172.16.0.0/12"),
                                      *IpPrefix::parse("192.168.0.0/16"), *IpPrefix::parse("100.64.0.0/10"),
                                      *IpPrefix::parse("fc00::/7")};
  for (const auto& p : kPrivate) {
    if (p.contains(a)) return true;
  }
  return false;
}

std::vector<IpAddress> read_address_list(JsonFields& f, std::string_view key, Diagnostics& diagnostics) {
  std::vector<IpAddress> out;
  const auto* list = f.find(key);
  if (list == nullptr) return out;
  auto add_text = [&](const std::string& text, const std::string& path) {
    // Azure prints active-active peering addresses comma-separated in one string.
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ',')) {
      if (part.empty()) continue;
      if (auto a = IpAddress::parse(part)) {
        out.push_back(*a);
      } else {
        diagnostics.error(path, "\"" + part + "\" is not an IPv4 or IPv6 address");
      }
    }
  };
  if (list->is_string()) {
    add_text(list->get<std::string>(), f.path_of(key));
  } else if (list->is_array()) {
    for (size_t i = 0; i < list->size(); ++i) {
      const auto path = f.path_of(key) + "[" + std::to_string(i) + "]";
      if ((*list)[i].is_string()) {
        add_text((*list)[i].get<std::string>(), path);
      } else {
        diagnostics.error(path, "must be an address string, not " + json_type_name((*list)[i]));
      }
    }
  } else {
    diagnostics.error(f.path_of(key), "must be an address or a list of addresses");
  }
  return out;
}

// ergw's own field: one identity (a string) or one per instance (a list).
std::vector<std::string> read_identity_list(JsonFields& f, std::string_view key, Diagnostics& diagnostics) {
  std::vector<std::string> out;
  const auto* value = f.find(key);
  if (value == nullptr) return out;
  if (value->is_string()) {
    out.push_back(value->get<std::string>());
  } else if (value->is_array()) {
    for (size_t i = 0; i < value->size(); ++i) {
      if ((*value)[i].is_string()) {
        out.push_back((*value)[i].get<std::string>());
      } else {
        diagnostics.error(f.path_of(key) + "[" + std::to_string(i) + "]",
                          "must be an identity string, not " + json_type_name((*value)[i]));
      }
    }
  } else {
    diagnostics.error(f.path_of(key), "must be an identity string or a list of them (one per tunnel address), not " +
                                          json_type_name(*value));
  }
  return out;
}

// `az network vnet-gateway show` (either shape), plus ergw's own fields.
AzureGateway read_azure_gateway(const nlohmann::json& object, const std::string& path, bool prefer_private,
                                Diagnostics& diagnostics) {
  AzureGateway g;
  JsonFields top(object, path, diagnostics);
  const nlohmann::json* properties = top.object("properties");
  JsonFields f(properties != nullptr ? *properties : object,
               properties != nullptr ? top.path_of("properties") : path, diagnostics);
  g.source_path = f.path();
  f.ignore({"id", "etag", "type", "location", "tags", "resourceGroup", "provisioningState", "resourceGuid",
            "ipConfigurations", "gatewayType", "vpnType", "vpnGatewayGeneration", "enableBgp",
            "enablePrivateIpAddress", "disableIPSecReplayProtection", "gatewayDefaultSite", "sku",
            "vpnClientConfiguration", "customRoutes", "enableDnsForwarding", "inboundDnsForwardingEndpoint",
            "natRules", "enableBgpRouteTranslationForNat", "virtualNetworkGatewayPolicyGroups",
            "allowRemoteVnetTraffic", "allowVirtualWanTraffic", "adminState", "autoScaleConfiguration",
            "extendedLocation", "identity", "resiliencyModel", "vNetExtendedLocationResourceId",
            "enableHighBandwidthVpnGateway", "name", "properties", "systemData"});
  g.tunnel_ip_addresses = read_address_list(f, "tunnelIpAddresses", diagnostics);
  g.ike_identities = read_identity_list(f, "ikeIdentity", diagnostics);
  if (auto v = f.boolean("activeActive")) g.active_active = *v;
  g.vnet_prefixes = f.prefixes("vnetPrefixes");
  std::vector<IpAddress> candidates;
  if (const auto* bgp = f.object("bgpSettings")) {
    JsonFields b(*bgp, f.path_of("bgpSettings"), diagnostics);
    if (auto asn = read_asn(b, "asn", diagnostics)) g.asn = *asn;
    g.bgp_peering_addresses = read_address_list(b, "bgpPeeringAddress", diagnostics);
    b.ignore({"peerWeight"});
    if (const auto* list = b.array("bgpPeeringAddresses")) {
      for (size_t i = 0; i < list->size(); ++i) {
        JsonFields entry((*list)[i], b.path_of("bgpPeeringAddresses") + "[" + std::to_string(i) + "]",
                         diagnostics);
        entry.ignore({"ipconfigurationId", "defaultBgpIpAddresses", "customBgpIpAddresses"});
        for (const auto& a : read_address_list(entry, "tunnelIpAddresses", diagnostics)) candidates.push_back(a);
      }
    }
    b.warn_unknown();
  }
  f.warn_unknown();
  if (g.tunnel_ip_addresses.empty()) {
    // Azure lists each instance's public and private tunnel addresses; with
    // useLocalAzureIpAddress (S2S over ExpressRoute private peering,
    // docs/azure-facts.md) the private ones are the IKE endpoints.
    for (const auto& a : candidates) {
      if (is_private_address(a) == prefer_private) g.tunnel_ip_addresses.push_back(a);
    }
  }
  return g;
}

LocalSide read_local_side(const nlohmann::json* local, const nlohmann::json* lng, const std::string& path,
                          Diagnostics& diagnostics) {
  LocalSide s;
  s.source_path = path + ".local";
  if (lng != nullptr) {
    // `az network local-gateway show`: Azure's view of this appliance.
    JsonFields top(*lng, path + ".localNetworkGateway", diagnostics);
    const nlohmann::json* properties = top.object("properties");
    JsonFields f(properties != nullptr ? *properties : *lng,
                 properties != nullptr ? top.path_of("properties") : top.path(), diagnostics);
    f.ignore({"id", "etag", "type", "location", "tags", "resourceGroup", "provisioningState", "resourceGuid",
              "fqdn", "name", "properties", "systemData"});
    s.address = f.address("gatewayIpAddress");
    if (const auto* space = f.object("localNetworkAddressSpace")) {
      JsonFields sp(*space, f.path_of("localNetworkAddressSpace"), diagnostics);
      s.prefixes = sp.prefixes("addressPrefixes");
      sp.warn_unknown();
    }
    if (const auto* bgp = f.object("bgpSettings")) {
      JsonFields b(*bgp, f.path_of("bgpSettings"), diagnostics);
      s.asn = read_asn(b, "asn", diagnostics);
      s.bgp_peering_address = b.address("bgpPeeringAddress");
      b.ignore({"peerWeight", "bgpPeeringAddresses"});
      b.warn_unknown();
    }
    f.warn_unknown();
  }
  if (local != nullptr) {
    JsonFields f(*local, s.source_path, diagnostics);
    if (auto a = f.address("address")) s.address = a;
    if (auto id = f.string("ikeIdentity")) s.ike_identity = *id;
    if (f.has("prefixes")) s.prefixes = f.prefixes("prefixes");
    if (auto asn = read_asn(f, "asn", diagnostics)) s.asn = asn;
    if (auto a = f.address("bgpPeeringAddress")) s.bgp_peering_address = a;
    s.express_route_prefixes = f.prefixes("expressRoutePrefixes");
    f.warn_unknown();
  }
  return s;
}

std::optional<Secret> read_secret_file(const std::filesystem::path& file, const std::string& path,
                                       Diagnostics& diagnostics) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    diagnostics.error(path, "cannot read the key file " + file.string());
    return std::nullopt;
  }
  std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    diagnostics.warning(path, "the key file " + file.string() + " can be read by other users",
                        "chmod 600 " + file.string());
  }
  return Secret(std::move(value));
}

ConnectionSpec read_connection_spec(const nlohmann::json& object, const std::string& path,
                                    const std::filesystem::path& base_dir, Diagnostics& diagnostics) {
  ConnectionSpec spec;
  spec.source_path = path;
  JsonFields f(object, path, diagnostics);
  f.limit_to(kConnectionMemberKeys);
  if (auto name = f.string("name")) spec.name = *name;
  const auto* azure = f.object("azure");
  if (azure == nullptr) {
    diagnostics.error(f.path_of("azure"), "missing; paste the connection object as Azure prints it "
                                          "(az network vpn-connection show, or its ARM JSON)");
  } else {
    spec.azure = read_azure_connection(*azure, f.path_of("azure"), diagnostics);
  }
  if (spec.name.empty()) spec.name = spec.azure.name;
  if (auto text = f.string("ipsecPolicy")) {
    auto policy = read_ipsec_policy_args(*text, f.path_of("ipsecPolicy"), diagnostics);
    if (policy && spec.azure.ipsec_policy && !(*policy == *spec.azure.ipsec_policy)) {
      diagnostics.error(f.path_of("ipsecPolicy"), "differs from the policy in the Azure connection object (" +
                                                      spec.azure.ipsec_policy_path + "); give one of them");
    } else if (policy) {
      spec.azure.ipsec_policy = policy;
      spec.azure.ipsec_policy_path = f.path_of("ipsecPolicy");
    }
  }
  if (auto key_file = f.string("sharedKeyFile")) {
    if (!spec.azure.shared_key.empty()) {
      diagnostics.error(f.path_of("sharedKeyFile"), "the connection object has a sharedKey already; give one of them");
    } else {
      std::filesystem::path file(*key_file);
      if (file.is_relative()) file = base_dir / file;
      if (auto secret = read_secret_file(file, f.path_of("sharedKeyFile"), diagnostics)) {
        spec.azure.shared_key = std::move(*secret);
      }
    }
  }
  if (auto password = f.string("bgpPassword")) {
    spec.bgp_password = Secret(*password);
    spec.bgp_password_path = f.path_of("bgpPassword");
  }
  if (auto password_file = f.string("bgpPasswordFile")) {
    if (spec.bgp_password) {
      diagnostics.error(f.path_of("bgpPasswordFile"), "bgpPassword is given already; give one of them");
    } else {
      std::filesystem::path file(*password_file);
      if (file.is_relative()) file = base_dir / file;
      if (auto secret = read_secret_file(file, f.path_of("bgpPasswordFile"), diagnostics)) {
        spec.bgp_password = std::move(*secret);
        spec.bgp_password_path = f.path_of("bgpPasswordFile");
      }
    }
  }
  if (auto id = f.integer("interfaceId")) {
    if (*id < 1 || *id > 0xFFFFFFFELL) {
      diagnostics.error(f.path_of("interfaceId"), std::to_string(*id) + " is out of range; allowed: 1..4294967294");
    } else {
      spec.interface_id = static_cast<uint32_t>(*id);
    }
  }
  spec.pfs_probe = f.boolean("pfsProbe");
  if (auto mss = f.integer("tcpMss")) {
    if (*mss != 0 && (*mss < kMinTcpMss || *mss > kMaxTcpMss)) {
      diagnostics.error(f.path_of("tcpMss"), std::to_string(*mss) + " is out of range; allowed: " +
                                                 std::to_string(kMinTcpMss) + ".." + std::to_string(kMaxTcpMss) +
                                                 " (Azure asks for 1350), or 0 for no clamp");
    } else {
      spec.tcp_mss = static_cast<int>(*mss);
    }
  }
  if (const auto* preferred = f.find("preferredInstance")) {
    if (preferred->is_number_integer() && (*preferred == 0 || *preferred == 1)) {
      spec.preferred_instance = preferred->get<size_t>();
    } else if (!(preferred->is_string() && *preferred == "none")) {
      diagnostics.error(f.path_of("preferredInstance"),
                        preferred->dump() + " is not allowed; allowed: \"none\" (ECMP over both instances' "
                                            "tunnels, the default), 0 or 1 (the instance whose tunnel address is "
                                            "first or second in azureGateway.tunnelIpAddresses)");
    }
  }
  if (const auto* gateway = f.object("azureGateway")) {
    spec.gateway = read_azure_gateway(*gateway, f.path_of("azureGateway"), spec.azure.use_local_azure_ip_address,
                                      diagnostics);
  } else {
    diagnostics.error(f.path_of("azureGateway"), "missing; ergw needs the Azure gateway's tunnel IP address(es) "
                                                 "(or paste `az network vnet-gateway show`)");
  }
  spec.local = read_local_side(f.object("local"), f.object("localNetworkGateway"), path, diagnostics);
  f.warn_unknown();
  return spec;
}

}  // namespace

bool is_bare_connection_object(const nlohmann::json& document) {
  if (!document.is_object() || document.contains("connections")) return false;
  if (document.contains("properties")) return true;
  for (auto key : {"connectionType", "ipsecPolicies", "sharedKey", "connectionProtocol",
                   "usePolicyBasedTrafficSelectors", "virtualNetworkGateway1"}) {
    if (document.contains(key)) return true;
  }
  return false;
}

std::optional<ApplianceConfig> read_configuration(const nlohmann::json& document,
                                                  const std::filesystem::path& base_dir,
                                                  Diagnostics& diagnostics) {
  ApplianceConfig config;
  if (is_bare_connection_object(document)) {
    ConnectionSpec spec;
    spec.bare_connection_object = true;
    spec.azure = read_azure_connection(document, "", diagnostics);
    spec.name = spec.azure.name.empty() ? "azure" : spec.azure.name;
    diagnostics.note("", "a bare Azure connection object: it does not carry the Azure gateway's tunnel address "
                         "or this appliance's address; they show as %any",
                     "put the object under \"azure\" in an ergw configuration file with azureGateway and local "
                     "(docs/configuration.md)");
    config.connections.push_back(std::move(spec));
  } else if (!document.is_object()) {
    diagnostics.error("", "the configuration must be a JSON object, not " + json_type_name(document));
    return std::nullopt;
  } else {
    JsonFields f(document, "", diagnostics);
    if (const auto* appliance = f.object("appliance")) {
      JsonFields a(*appliance, "appliance", diagnostics);
      if (auto name = a.string("name")) config.name = *name;
      if (auto plane = a.string("dataPlane")) {
        if (equals_ignoring_case(*plane, "auto")) {
          config.data_plane = DataPlane::automatic;
        } else if (equals_ignoring_case(*plane, "kernel")) {
          config.data_plane = DataPlane::kernel;
        } else if (equals_ignoring_case(*plane, "libipsec")) {
          config.data_plane = DataPlane::libipsec;
        } else if (equals_ignoring_case(*plane, "fastpath")) {
          config.data_plane = DataPlane::fastpath;
        } else {
          diagnostics.error(a.path_of("dataPlane"), "\"" + *plane + "\" is not a data plane; allowed: auto, "
                                                                    "kernel, libipsec, fastpath");
        }
      }
      if (auto probe = a.boolean("pfsProbe")) config.pfs_probe = *probe;
      a.warn_unknown();
    }
    const auto* list = f.array("connections");
    if (list == nullptr) {
      diagnostics.error("connections", "missing; the configuration needs a list of connections");
    } else {
      for (size_t i = 0; i < list->size(); ++i) {
        const auto path = "connections[" + std::to_string(i) + "]";
        if (!(*list)[i].is_object()) {
          diagnostics.error(path, "must be an object, not " + json_type_name((*list)[i]));
          continue;
        }
        config.connections.push_back(read_connection_spec((*list)[i], path, base_dir, diagnostics));
      }
    }
    f.warn_unknown();
  }
  return config;
}

std::optional<ApplianceConfig> read_configuration_file(const std::filesystem::path& file,
                                                       Diagnostics& diagnostics) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    diagnostics.error(file.string(), "cannot open the file");
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ergw::JsonSyntaxError error;
  auto document = ergw::parse_json(text, &error);
  if (!document) {
    // Where it broke, never what is there (the file may hold a key).
    const size_t at = std::min(error.byte, text.size());
    const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    diagnostics.error(file.string() + ":" + std::to_string(line),
                      "not valid JSON (" + error.what + (error.byte ? " at byte " + std::to_string(error.byte) : "") + ")");
    return std::nullopt;
  }
  return read_configuration(*document, file.parent_path(), diagnostics);
}

}  // namespace ergw::policy
