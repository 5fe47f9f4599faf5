// IKE and CHILD SA states as charon reports them in list-sa and the up/down
// and rekey events: strongSwan's ike_sa_state_t and child_sa_state_t (5.9.8,
// src/libcharon/sa/ike_sa.h and child_sa.h), with the printable names charon
// uses (ike_sa_state_names, child_sa_state_names). Parsed here once; nothing
// above vici/ compares state strings.
//
// What the states mean for a tunnel (is it carrying traffic, is charon still
// working on it) is said here too, next to the states, so that every reader
// (reconciler, BGP controller, status, metrics) draws the same conclusion.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ergw::vici {

// In charon's order; the second column is charon's printable name.
#define ERGW_IKE_SA_STATES(X)                                                                  \
  X(created, "CREATED")         /* just created, neither initiating nor responding yet */      \
  X(connecting, "CONNECTING")   /* IKE_SA_INIT/IKE_AUTH under way, as initiator or responder */ \
  X(established, "ESTABLISHED") /* authenticated and in use */                                  \
  X(passive, "PASSIVE")         /* managed by another node (HA plugin); not ours */            \
  X(rekeying, "REKEYING")       /* in use while its replacement is negotiated */               \
  X(rekeyed, "REKEYED")         /* replaced by a newer IKE SA (or redundant); going away */     \
  X(deleting, "DELETING")       /* being deleted */                                             \
  X(destroying, "DESTROYING")   /* being destroyed */

#define ERGW_CHILD_SA_STATES(X)                                                                 \
  X(created, "CREATED")         /* just created, nothing installed */                          \
  X(routed, "ROUTED")           /* trap policies only, no SA */                                \
  X(installing, "INSTALLING")   /* being installed */                                          \
  X(installed, "INSTALLED")     /* both SAs installed: carries traffic */                      \
  X(updating, "UPDATING")       /* installed, addresses being updated (MOBIKE, NAT) */         \
  X(rekeying, "REKEYING")       /* installed while its replacement is negotiated */            \
  X(rekeyed, "REKEYED")         /* replaced by a newer CHILD SA but still installed */          \
  X(retrying, "RETRYING")       /* negotiation failed, charon retries */                       \
  X(deleting, "DELETING")       /* being deleted */                                             \
  X(deleted, "DELETED")         /* deleted, not yet destroyed */                               \
  X(destroying, "DESTROYING")   /* being destroyed */

enum class IkeSaState : uint8_t {
#define ERGW_SA_STATE_ENUM(name, text) name,
  ERGW_IKE_SA_STATES(ERGW_SA_STATE_ENUM)
};

enum class ChildSaState : uint8_t {
  ERGW_CHILD_SA_STATES(ERGW_SA_STATE_ENUM)
#undef ERGW_SA_STATE_ENUM
};

// charon's printable names: "ESTABLISHED", "INSTALLED", ...
std::string_view to_string(IkeSaState state);
std::string_view to_string(ChildSaState state);

// nullopt for a name charon 5.9.8 does not use.
std::optional<IkeSaState> parse_ike_sa_state(std::string_view name);
std::optional<ChildSaState> parse_child_sa_state(std::string_view name);
// "CREATED, CONNECTING, ..." for error messages.
std::string allowed_ike_sa_states();
std::string allowed_child_sa_states();

// The IKE SA is authenticated and holds its CHILD SAs: ESTABLISHED, or
// REKEYING (the old IKE SA keeps working until its replacement takes over its
// CHILD SAs).
constexpr bool is_established(IkeSaState s) { return s == IkeSaState::established || s == IkeSaState::rekeying; }
// charon is setting the IKE SA up (as initiator or responder).
constexpr bool is_connecting(IkeSaState s) { return s == IkeSaState::created || s == IkeSaState::connecting; }

// Both SAs of the CHILD SA are in the kernel (or libipsec) and carry traffic:
// INSTALLED, and the states an installed CHILD SA passes through while it is
// updated or rekeyed.
constexpr bool is_installed(ChildSaState s) {
  return s == ChildSaState::installed || s == ChildSaState::updating || s == ChildSaState::rekeying ||
         s == ChildSaState::rekeyed;
}
// charon is still negotiating or installing the CHILD SA (or retries it):
// asking for it again would only stack another negotiation.
constexpr bool is_in_progress(ChildSaState s) {
  return s == ChildSaState::created || s == ChildSaState::installing || s == ChildSaState::retrying;
}

}  // namespace ergw::vici
