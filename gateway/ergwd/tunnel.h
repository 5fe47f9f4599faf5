// One model of a tunnel: what charon's SAs mean for one configured connection.
//
// A connection is configured with one or more CHILDs: route-based ones have
// one (0.0.0.0/0 both ways), policy-based ones one per pair of on-prem and
// VNet prefixes, as Azure builds them. charon reports IKE SAs, each holding
// CHILD SAs. The tunnel is
//   UP          when an IKE SA of the connection is established and every
//               configured CHILD has an installed CHILD SA under an
//               established IKE SA of the connection (a prefix pair without
//               one carries no traffic, so the tunnel is not up);
//   PARTIAL     when an IKE SA is established but some configured CHILD has
//               no installed CHILD SA (being negotiated, refused, or gone);
//   CONNECTING  when an IKE SA is being set up and none is established;
//   DOWN        otherwise: no IKE SA at all, or only ones being deleted.
// This is the only definition: the reconciler (what to initiate), the BGP
// controller (when a session may run), the status and the metrics all read
// it from observe_tunnel().
//
// After both sides dialled at once a connection can have two established IKE
// SAs; each side then sends into its newest CHILD SA, so traffic may enter by
// one and leave by the other. Coverage counts CHILD SAs under any established
// IKE SA of the connection; the IKE SA "shown" for the connection is an
// established one, and of two the one that received more packets (the peer
// sends only into SAs it still has).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vici/sa_info.h"

namespace ergw::gateway {

enum class TunnelState : uint8_t { down, connecting, partial, up };
// "DOWN", "CONNECTING", "PARTIAL", "UP"
std::string_view to_string(TunnelState state);

// Where one configured CHILD stands.
enum class ChildCoverage : uint8_t {
  installed,    // an installed CHILD SA under an established IKE SA carries it
  in_progress,  // charon is negotiating or installing it (or retries it)
  missing,      // nothing: never asked for, refused, or deleted
};
std::string_view to_string(ChildCoverage coverage);

struct ConfiguredChild {
  std::string name;
  ChildCoverage coverage = ChildCoverage::missing;
};

// A copy, not a view: it stays valid after the SA list it came from is gone
// (a status or metrics snapshot keeps it).
struct Tunnel {
  std::string connection;
  TunnelState state = TunnelState::down;
  std::vector<vici::IkeSaInfo> ike_sas;   // this connection's, in charon's order
  std::optional<size_t> shown;            // index into ike_sas of the one that speaks for the connection
  std::vector<ConfiguredChild> children;  // in configuration order

  bool up() const { return state == TunnelState::up; }
  const vici::IkeSaInfo* shown_sa() const { return shown ? &ike_sas[*shown] : nullptr; }
  // Established IKE SAs (more than one after both sides dialled at once).
  size_t established_ike_sas() const;
  // Installed CHILD SAs under established IKE SAs (Azure's "QMSA count").
  size_t installed_child_sas() const;
  std::vector<std::string> children_with(ChildCoverage coverage) const;
};

// The tunnel of `connection` (its configured CHILD names in `children`) as
// the SAs in `sas` (everything list-sas returned) make it.
Tunnel observe_tunnel(std::string_view connection, const std::vector<std::string>& children,
                      const std::vector<vici::IkeSaInfo>& sas);

}  // namespace ergw::gateway
