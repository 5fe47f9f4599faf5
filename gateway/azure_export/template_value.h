// TemplateValue: a resource's properties as a deployment template holds them,
// shared by the ARM and the Bicep renderer so that both carry the same
// property names and values. A value is a literal or a reference that the
// template resolves at deployment (a parameter, a resource id); ARM writes a
// reference as an expression ("[parameters('x')]"), Bicep as a symbol.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ergw::azure_export {

struct TemplateReference {
  enum class Kind {
    parameter,                        // name: the parameter
    local_network_gateway_id,         // name: the local network gateway's resource name
    vpn_gateway_id,                   // name: the parameter that names the existing VPN gateway
    vpn_gateway_ip_configuration_id,  // name: as vpn_gateway_id; detail: the IP configuration's name
  };
  Kind kind = Kind::parameter;
  std::string name;
  std::string detail;
};

class TemplateValue {
 public:
  using Array = std::vector<TemplateValue>;
  using Object = std::vector<std::pair<std::string, TemplateValue>>;  // in the order Azure documents them

  TemplateValue(bool value) : value_(value) {}                          // NOLINT: implicit by design
  TemplateValue(int64_t value) : value_(value) {}                       // NOLINT
  TemplateValue(int value) : value_(static_cast<int64_t>(value)) {}     // NOLINT
  TemplateValue(std::string value) : value_(std::move(value)) {}        // NOLINT
  TemplateValue(const char* value) : value_(std::string(value)) {}      // NOLINT
  TemplateValue(TemplateReference value) : value_(std::move(value)) {}  // NOLINT
  TemplateValue(Array value) : value_(std::move(value)) {}              // NOLINT
  TemplateValue(Object value) : value_(std::move(value)) {}             // NOLINT

  template <typename T>
  bool is() const {
    return std::holds_alternative<T>(value_);
  }
  template <typename T>
  const T& as() const {
    return std::get<T>(value_);
  }

 private:
  std::variant<bool, int64_t, std::string, TemplateReference, Array, Object> value_;
};

}  // namespace ergw::azure_export
