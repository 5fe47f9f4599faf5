// Hitless change: a changed connection is applied make-before-break - the new
// IKE SA, with the new settings or the new PSK, is up before the old one goes.
//
// Why ergwd does it itself. strongSwan 5.9.8 (vici_config.c, merge_config)
// closes the SAs of a connection with start_action = start whenever load-conn
// replaces its configuration, and restarts it only afterwards: a few seconds
// without a tunnel. So ergwd loads its connections without start actions
// (connection_plan.h; it dials them itself, reconciler.h) and, for a changed
// one, chooses how to bring in the change:
//
//   new_ike_sa      the IKE settings changed (proposals, lifetimes, DPD, ...):
//                   `initiate` every CHILD. charon reuses an IKE SA only when
//                   its IKE and peer configs equal the loaded ones
//                   (ike_sa_manager.c, checkout_by_config), so this is a new
//                   IKE SA with the new settings, the new PSK and the new CHILD
//                   configs. Once it is established with every CHILD installed,
//                   the old IKE SAs are terminated (one DELETE each).
//   new_child_sas   only CHILD settings changed (ESP proposal, PFS group,
//                   CHILD lifetimes, traffic selectors) and the IKE settings
//                   and the PSK stayed: `initiate` every CHILD. The IKE and
//                   peer configs are the same, so charon puts each new CHILD
//                   SA, negotiated with the new CHILD config (CREATE_CHILD_SA,
//                   RFC 7296 section 1.3.1), into the running IKE SA. It has
//                   the same traffic selectors and if_id as the old one, so
//                   the same reqid: the data plane sends with the newest
//                   outbound SA of a reqid and accepts both inbound ones.
//                   Once every CHILD has a new installed CHILD SA, the old
//                   CHILD SAs are terminated (one CHILD DELETE each). The IKE
//                   SA and its BGP session are never touched. A CHILD rekey
//                   is no way to do it: charon rekeys with the CHILD SA's
//                   own (old) config (child_rekey.c).
//   reauthenticate  only the PSK changed: the IKE and CHILD configs are the
//                   same, so `initiate` would only add a CHILD SA to the old IKE
//                   SA. charon's make-before-break reauthentication (vici
//                   `rekey` with reauth, charon.make_before_break = yes, which
//                   ergwd writes into charon's settings) sets up a new IKE SA,
//                   authenticated with the new PSK, with the same CHILD SAs, and
//                   deletes the old one itself once the new one is up. When
//                   CHILD settings changed with the PSK, new CHILD SAs follow
//                   in the new IKE SA (the reauthentication re-creates the
//                   CHILD SAs from their old configs: ike_sa.c, reestablish).
//   restart         break-before-make: the old IKE SAs are terminated and the
//                   connection dialled again. For what neither a second IKE SA
//                   nor new CHILD SAs can bring in: ergw does not dial the
//                   connection and the IKE settings or the PSK changed
//                   (connectionMode InitiatorOnly: Azure ignores ergw's
//                   IKE_SA_INIT, so only Azure can set up the new IKE SA), the
//                   connection mode, Azure's tunnel address, ergw's address or
//                   an identity changed.
//
// The peer's side. An IKE DELETE makes a strongSwan peer run its close_action
// for the CHILD SAs of that IKE SA (ike_delete.c calls reestablish()), and so
// does a CHILD DELETE. A peer with close_action = start therefore dials again
// when ergw deletes the old IKE SA, its new IKE SA duplicates ergw's, and
// unique = replace deletes one of the two 10 s later: a new IKE SA every 10 s,
// forever. Azure keeps a connection up by dialling when it has none; the
// lab's model of it does exactly that (docs/lab.md), and the lab test watches
// both sides' SA lists after each change for new IKE SAs.
//
// While the new IKE SA is not up (the peer does not take the new settings yet:
// Azure not changed yet) the old one keeps carrying traffic, with the old
// settings, and ergwd dials again every kRedial; a change is never given up.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "gateway/ergwd/connection_plan.h"
#include "vici/sa_info.h"

namespace ergw::gateway {

enum class ChangeMethod { none, new_ike_sa, new_child_sas, reauthenticate, restart };
std::string_view to_string(ChangeMethod method);

struct ChangeDecision {
  ChangeMethod method = ChangeMethod::none;
  std::string why;  // for the log; never a secret
  // reauthenticate: CHILD settings changed too; new CHILD SAs follow once the
  // new IKE SA is up.
  bool then_new_child_sas = false;
};

// How the change from `before` to `after` (the same connection) is applied.
ChangeDecision decide_change(const ConnectionPlan& before, const ConnectionPlan& after);

// One change in progress (new_ike_sa, new_child_sas or reauthenticate).
struct HitlessChange {
  ChangeMethod method = ChangeMethod::new_ike_sa;
  bool then_new_child_sas = false;   // reauthenticate: new CHILD SAs follow (ChangeDecision)
  std::set<uint64_t> old_ike_sas;    // the connection's IKE SAs when the change was loaded
  std::set<uint64_t> old_child_sas;  // and their CHILD SAs (and, new_child_sas, what rekeys made of them)
  bool made = false;                 // initiate or reauth sent
  std::chrono::steady_clock::time_point made_at{};
  uint64_t reauthenticated = 0;      // the IKE SA charon reauthenticates (and deletes itself)
};

// Every IKE SA of `connection` in `sas` (any state) and their CHILD SAs, as
// the change starts.
HitlessChange start_change(ChangeMethod method, const std::string& connection,
                           const std::vector<vici::IkeSaInfo>& sas);

// The initiate (or reauthentication) was sent now. new_ike_sa and
// reauthenticate note the old IKE SAs' CHILD SAs again (a rekey meanwhile gave
// them new ones); new_child_sas does not (a CHILD SA that appeared since is one
// of the new ones) and follows rekeys by note_child_rekey instead.
void note_made(HitlessChange& change, const std::string& connection, const std::vector<vici::IkeSaInfo>& sas,
               std::chrono::steady_clock::time_point now);

// A child-rekey event: with new_child_sas, the CHILD SA that replaces an old
// one is old too (rekeyed with the old config), never one of the new ones.
void note_child_rekey(HitlessChange& change, uint64_t old_child, uint64_t new_child);

enum class ChangeStep {
  wait,       // the new IKE SA is on its way
  make,       // send the initiate (or the reauthentication) now
  finish,     // the new IKE SA carries every CHILD: terminate `old` (may be empty);
              // new_child_sas: every CHILD has a new CHILD SA: terminate `old_children`
  fall_back,  // charon put the new CHILD SAs into an old IKE SA: restart instead
};
struct ChangeNext {
  ChangeStep step = ChangeStep::wait;
  std::vector<uint64_t> old;           // finish: the old IKE SAs still established
  std::vector<std::string> initiate;   // make with new_ike_sa: the CHILDs to initiate
  uint64_t reauthenticate = 0;         // make with reauthenticate: the old IKE SA to reauthenticate
  uint64_t new_ike_sa = 0;             // finish: the IKE SA that took over
  std::vector<uint64_t> old_children;  // finish with new_child_sas: the old CHILD SAs still there
  std::vector<uint64_t> new_children;  // finish with new_child_sas: the CHILD SAs that took over
};

// How often a new IKE SA (or CHILD SA) that did not come up is asked for again.
inline constexpr std::chrono::seconds kRedial{5};

// What to do next, from charon's SA list. `children`: the connection's CHILD
// config names, all of which the new IKE SA must carry.
ChangeNext next_change_step(const HitlessChange& change, const std::string& connection,
                            const std::vector<std::string>& children, const std::vector<vici::IkeSaInfo>& sas,
                            std::chrono::steady_clock::time_point now);

}  // namespace ergw::gateway
