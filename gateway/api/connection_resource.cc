#include "gateway/api/connection_resource.h"

#include "gateway/policy/azure_enums.h"
#include "gateway/policy/connection_members.h"
#include "gateway/policy/connection_reader.h"
#include "gateway/policy/json_fields.h"

namespace ergw::api {
namespace {

// ergw's own members of a connection entry (those under "ergw") come from
// policy::kConnectionMembers, the list the configuration reader is held to.
using policy::kConnectionMembers;
using policy::MemberExposure;
// Azure's read-only members: shown, never stored.
constexpr const char* kReadOnly[] = {"provisioningState", "connectionStatus", "ingressBytesTransferred",
                                     "egressBytesTransferred"};

const nlohmann::json* member(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (policy::equals_ignoring_case(it.key(), key)) return &it.value();
  }
  return nullptr;
}

std::string entry_name(const nlohmann::json& entry) {
  if (const auto* name = member(entry, "name"); name != nullptr && name->is_string() && !name->get<std::string>().empty()) {
    return name->get<std::string>();
  }
  if (const auto* azure = member(entry, "azure")) {
    if (const auto* name = member(*azure, "name"); name != nullptr && name->is_string()) return name->get<std::string>();
  }
  return {};
}

const nlohmann::json* connections(const nlohmann::json& document) {
  const auto* list = member(document, "connections");
  return list != nullptr && list->is_array() ? list : nullptr;
}

const char* provisioning_name(Provisioning p) {
  switch (p) {
    case Provisioning::succeeded: return "Succeeded";
    case Provisioning::updating: return "Updating";
  }
  return "Succeeded";
}

}  // namespace

std::vector<std::string> connection_names(const nlohmann::json& document) {
  std::vector<std::string> out;
  if (const auto* list = connections(document)) {
    for (const auto& entry : *list) out.push_back(entry_name(entry));
  }
  return out;
}

std::optional<size_t> find_connection(const nlohmann::json& document, const std::string& name) {
  const auto names = connection_names(document);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return i;
  }
  return std::nullopt;
}

std::string connection_status(const metrics::ConnectionObservation* observed) {
  if (observed == nullptr) return "Unknown";
  if (observed->up) return "Connected";
  if (observed->connecting) return "Connecting";
  return "NotConnected";
}

nlohmann::json connection_resource(const nlohmann::json& document, size_t index, const std::string& name,
                                   const metrics::ConnectionObservation* observed, Provisioning provisioning) {
  const auto& entry = (*connections(document))[index];
  nlohmann::json properties = nlohmann::json::object();
  if (const auto* azure = member(entry, "azure"); azure != nullptr && azure->is_object()) {
    const auto* arm = member(*azure, "properties");
    properties = arm != nullptr && arm->is_object() ? *arm : *azure;
    if (arm == nullptr) properties.erase("name");
  }
  properties["provisioningState"] = provisioning_name(provisioning);
  properties["connectionStatus"] = connection_status(observed);
  // Azure counts from its side: ingress is what enters Azure, i.e. what ergw sends.
  properties["ingressBytesTransferred"] = observed != nullptr ? observed->traffic.tx_bytes : 0;
  properties["egressBytesTransferred"] = observed != nullptr ? observed->traffic.rx_bytes : 0;
  nlohmann::json ergw = nlohmann::json::object();
  for (const auto& m : kConnectionMembers) {
    // Secrets and key files never: the stored document has none, and a
    // document that had one still would not show it.
    if (m.exposure != MemberExposure::shown) continue;
    if (const auto* value = member(entry, m.key)) ergw[std::string(m.key)] = *value;
  }
  return {{"name", name}, {"properties", std::move(properties)}, {"ergw", std::move(ergw)}};
}

std::optional<nlohmann::json> connection_entry(const nlohmann::json& body, const std::string& name,
                                               Diagnostics& diagnostics) {
  if (!body.is_object()) {
    diagnostics.error("", "the body must be a connection object ({\"name\", \"properties\", \"ergw\"}), not " +
                              policy::json_type_name(body));
    return std::nullopt;
  }
  policy::JsonFields top(body, "", diagnostics);
  if (auto body_name = top.string("name"); body_name && *body_name != name) {
    diagnostics.error("name", "\"" + *body_name + "\" differs from the name in the URL (\"" + name + "\")");
  }
  // ARM's envelope members: accepted and ignored, as Azure prints them.
  top.ignore({"id", "etag", "type", "location", "tags", "resourceGroup", "systemData"});
  const auto* properties = top.object("properties");
  if (properties == nullptr && !top.has("properties")) {
    diagnostics.error("properties", "missing; give the Azure connection's properties (as ARM or `az rest` prints "
                                    "them)");
  }
  nlohmann::json entry = {{"name", name}};
  if (properties != nullptr) {
    nlohmann::json fields = *properties;
    for (const char* key : kReadOnly) fields.erase(key);
    entry["azure"] = {{"name", name}, {"properties", std::move(fields)}};
  }
  if (const auto* ergw = top.object("ergw")) {
    policy::JsonFields block(*ergw, "ergw", diagnostics);
    for (const auto& m : kConnectionMembers) {
      switch (m.exposure) {
        case MemberExposure::shown:
        case MemberExposure::secret:
          if (const auto* value = block.find(m.key)) entry[std::string(m.key)] = *value;
          break;
        case MemberExposure::appliance_file:
          if (block.find(m.key) == nullptr) break;
          {
            std::string instead(m.instead);
            if (auto at = instead.find("{name}"); at != std::string::npos) instead.replace(at, 6, name);
            diagnostics.error("ergw." + std::string(m.key),
                              "not accepted over the API (it names a file on the appliance); give " + instead);
          }
          break;
        case MemberExposure::envelope: break;  // the resource's own "name" and "properties"
      }
    }
    block.warn_unknown();
  }
  top.warn_unknown();
  // Other errors do not stop here: the rule book adds its own to the same answer.
  if (properties == nullptr) return std::nullopt;
  return entry;
}

}  // namespace ergw::api
