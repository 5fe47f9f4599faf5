// The few host-network changes BGP needs besides routes: policy routing rules
// (so traffic consults ergw's own table of learned routes, and IKE/ESP to
// Azure's tunnel address never does) and the appliance's own BGP address on lo.
// All through rtnetlink; each call is idempotent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "common/ip_prefix.h"
#include "common/result.h"

namespace ergw::gateway {

// `ip rule add [to DST] lookup TABLE priority PRIORITY`; without `to`, every
// destination. A rule that exists already is success.
struct PolicyRule {
  uint32_t priority = 0;
  uint32_t table = 0;
  std::optional<IpPrefix> to;
  bool operator==(const PolicyRule&) const = default;
  auto operator<=>(const PolicyRule&) const = default;
};

Status add_rule(const PolicyRule& rule);
// A rule that is gone already is success.
Status delete_rule(const PolicyRule& rule);

// True when some interface of this namespace carries `address`.
bool address_present(const IpAddress& address);
// Adds `address`/32 to lo (scope global) unless some interface has it already.
// Returns true in `added` when it did, so the caller may remove it again.
Status ensure_address_on_loopback(const IpAddress& address, bool& added);
Status remove_address_from_loopback(const IpAddress& address);

// The same changes behind an interface, so the BGP controller can be tested
// without root and without touching the host it runs on.
class HostNetwork {
 public:
  virtual ~HostNetwork() = default;
  virtual Status add_rule(const PolicyRule& rule) = 0;
  virtual Status delete_rule(const PolicyRule& rule) = 0;
  virtual Status ensure_address_on_loopback(const IpAddress& address, bool& added) = 0;
  virtual Status remove_address_from_loopback(const IpAddress& address) = 0;
};

// The functions above, through rtnetlink.
std::unique_ptr<HostNetwork> make_host_network();

}  // namespace ergw::gateway
