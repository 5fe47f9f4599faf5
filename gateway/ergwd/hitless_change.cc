#include "gateway/ergwd/hitless_change.h"

#include <algorithm>

namespace ergw::gateway {
namespace {

// The connection's IKE-level settings: everything but its CHILD configs.
vici::Section ike_level(const vici::Section& conn) {
  vici::Section out = conn;
  out.erase("children");
  return out;
}

vici::Section children_of(const vici::Section& conn) {
  auto children = conn.get_section("children");
  return children && children.value() != nullptr ? *children.value() : vici::Section{};
}

bool same_secret(const policy::SharedSecretConfig& a, const policy::SharedSecretConfig& b) {
  return a.name == b.name && a.owners == b.owners && a.secret == b.secret;
}

bool is_old(const HitlessChange& change, const vici::IkeSaInfo& sa) { return change.old_ike_sas.count(sa.uniqueid) != 0; }

// Whether the IKE SAs in `carriers` hold an installed CHILD SA for every
// configured CHILD.
bool carries_every_child(const std::vector<const vici::IkeSaInfo*>& carriers, const std::vector<std::string>& children) {
  return std::all_of(children.begin(), children.end(), [&](const std::string& child) {
    return std::any_of(carriers.begin(), carriers.end(), [&](const vici::IkeSaInfo* sa) {
      return std::any_of(sa->child_sas.begin(), sa->child_sas.end(), [&](const vici::ChildSaInfo& c) {
        return c.name == child && vici::is_installed(c.state);
      });
    });
  });
}

}  // namespace

std::string_view to_string(ChangeMethod method) {
  switch (method) {
    case ChangeMethod::none: return "none";
    case ChangeMethod::new_ike_sa: return "new IKE SA, then the old one deleted";
    case ChangeMethod::new_child_sas: return "new CHILD SAs in the running IKE SA, then the old ones deleted";
    case ChangeMethod::reauthenticate: return "make-before-break reauthentication";
    case ChangeMethod::restart: return "restart (break-before-make)";
  }
  return "?";
}

ChangeDecision decide_change(const ConnectionPlan& before, const ConnectionPlan& after) {
  const bool same_ike = ike_level(before.conn) == ike_level(after.conn);
  const bool same_children = children_of(before.conn) == children_of(after.conn);
  const bool same_key = same_secret(before.secret, after.secret);
  if (same_ike && same_children && same_key) return {ChangeMethod::none, "nothing charon holds changed"};
  if (before.peer_dials != after.peer_dials) return {ChangeMethod::restart, "its connection mode changed"};
  if (before.remote != after.remote) return {ChangeMethod::restart, "Azure's tunnel address changed"};
  const auto* local_before = before.conn.find("local_addrs");
  const auto* local_after = after.conn.find("local_addrs");
  const bool same_local = local_before == nullptr || local_after == nullptr ? local_before == local_after
                                                                            : *local_before == *local_after;
  if (!same_local) return {ChangeMethod::restart, "ergw's address changed"};
  if (before.local_id != after.local_id || before.remote_id != after.remote_id) {
    return {ChangeMethod::restart, "an IKE identity changed"};
  }
  if (same_ike && same_key) {
    // A CREATE_CHILD_SA in the running IKE SA: either side may send one
    // (ergw's own CHILD rekeys do), so this works whoever dials.
    return {ChangeMethod::new_child_sas,
            "only its CHILD settings changed (ESP proposal, PFS group, CHILD lifetimes or traffic selectors)"};
  }
  if (!before.dial || !after.dial) {
    return {ChangeMethod::restart,
            "ergw does not dial it (connectionMode InitiatorOnly): only Azure can set up the new IKE SA"};
  }
  if (!same_ike) return {ChangeMethod::new_ike_sa, "its IKE settings changed"};
  if (!same_children) {
    return {ChangeMethod::reauthenticate, "its PSK and its CHILD settings changed", /*then_new_child_sas=*/true};
  }
  return {ChangeMethod::reauthenticate, "only its PSK changed"};
}

HitlessChange start_change(ChangeMethod method, const std::string& connection,
                           const std::vector<vici::IkeSaInfo>& sas) {
  HitlessChange change;
  change.method = method;
  for (const auto& sa : sas) {
    if (sa.name != connection) continue;
    change.old_ike_sas.insert(sa.uniqueid);
    for (const auto& child : sa.child_sas) change.old_child_sas.insert(child.uniqueid);
  }
  return change;
}

void note_made(HitlessChange& change, const std::string& connection, const std::vector<vici::IkeSaInfo>& sas,
               std::chrono::steady_clock::time_point now) {
  change.made = true;
  change.made_at = now;
  if (change.method == ChangeMethod::new_child_sas) return;
  // The old IKE SAs' CHILD SAs as they are now: one that appears later in
  // them is the new CHILD that charon put there (or a rekey just then).
  for (const auto& sa : sas) {
    if (sa.name != connection || !is_old(change, sa)) continue;
    for (const auto& child : sa.child_sas) change.old_child_sas.insert(child.uniqueid);
  }
}

void note_child_rekey(HitlessChange& change, uint64_t old_child, uint64_t new_child) {
  if (change.method == ChangeMethod::new_child_sas && change.old_child_sas.count(old_child) != 0) {
    change.old_child_sas.insert(new_child);
  }
}

namespace {

// new_child_sas: every CHILD SA of the connection in any of its IKE SAs (an
// IKE rekey meanwhile moves the CHILD SAs, unique ids and all, to a new IKE
// SA), old or new by change.old_child_sas.
ChangeNext next_child_step(const HitlessChange& change, const std::string& connection,
                           const std::vector<std::string>& children, const std::vector<vici::IkeSaInfo>& sas,
                           std::chrono::steady_clock::time_point now) {
  ChangeNext next;
  bool any_ike_sa = false;
  bool any_established = false;
  std::set<std::string> new_installed;
  std::set<std::string> new_in_progress;
  for (const auto& sa : sas) {
    if (sa.name != connection) continue;
    any_ike_sa = true;
    if (!vici::is_established(sa.state)) continue;
    any_established = true;
    for (const auto& child : sa.child_sas) {
      const bool old = change.old_child_sas.count(child.uniqueid) != 0;
      if (old) continue;
      if (vici::is_installed(child.state)) {
        new_installed.insert(child.name);
        next.new_children.push_back(child.uniqueid);
      } else if (vici::is_in_progress(child.state)) {
        new_in_progress.insert(child.name);
      }
    }
  }
  if (!any_ike_sa || children.empty()) {
    // The tunnel went (the peer deleted it, DPD): whatever is dialled now
    // has the new settings. (No CHILD configured: nothing to replace.)
    next.step = ChangeStep::finish;
    next.new_children.clear();
    return next;
  }
  const bool all_new = std::all_of(children.begin(), children.end(),
                                   [&](const std::string& child) { return new_installed.count(child) != 0; });
  if (all_new && any_established) {
    next.step = ChangeStep::finish;
    for (const auto& sa : sas) {
      if (sa.name != connection) continue;
      for (const auto& child : sa.child_sas) {
        const bool going = child.state == vici::ChildSaState::deleting || child.state == vici::ChildSaState::deleted ||
                           child.state == vici::ChildSaState::destroying;
        if (change.old_child_sas.count(child.uniqueid) != 0 && !going) next.old_children.push_back(child.uniqueid);
      }
    }
    return next;
  }
  next.new_children.clear();
  // Nothing to put them into yet (the IKE SA is being rekeyed or set up).
  if (!any_established) return next;
  if (change.made && now - change.made_at < kRedial) return next;
  // First time every CHILD; after kRedial (the peer refused: Azure does not
  // take the new settings yet) those neither installed nor on their way.
  for (const auto& child : children) {
    if (new_installed.count(child) == 0 && new_in_progress.count(child) == 0) next.initiate.push_back(child);
  }
  if (!next.initiate.empty()) next.step = ChangeStep::make;
  return next;
}

}  // namespace

ChangeNext next_change_step(const HitlessChange& change, const std::string& connection,
                            const std::vector<std::string>& children, const std::vector<vici::IkeSaInfo>& sas,
                            std::chrono::steady_clock::time_point now) {
  if (change.method == ChangeMethod::new_child_sas) return next_child_step(change, connection, children, sas, now);
  std::vector<const vici::IkeSaInfo*> old_sas;
  std::vector<const vici::IkeSaInfo*> new_sas;
  for (const auto& sa : sas) {
    if (sa.name != connection) continue;
    (is_old(change, sa) ? old_sas : new_sas).push_back(&sa);
  }
  ChangeNext next;
  std::vector<const vici::IkeSaInfo*> established;
  for (const auto* sa : new_sas) {
    if (vici::is_established(sa->state)) established.push_back(sa);
  }
  if (!established.empty() && carries_every_child(established, children)) {
    next.step = ChangeStep::finish;
    next.new_ike_sa = established.front()->uniqueid;
    for (const auto* sa : old_sas) {
      if (vici::is_established(sa->state) && sa->uniqueid != change.reauthenticated) next.old.push_back(sa->uniqueid);
    }
    return next;
  }
  if (old_sas.empty()) {
    // The old IKE SAs went by themselves (the peer deleted them, DPD): the
    // reconciler dials what is missing like for any connection.
    next.step = ChangeStep::finish;
    return next;
  }
  const bool new_on_its_way = !new_sas.empty();
  if (!established.empty() && change.method == ChangeMethod::new_ike_sa) {
    // The new IKE SA is up with its first CHILD: the others (a policy-based
    // connection's further prefix pairs) follow into it - the old IKE SAs
    // have other IKE settings, so charon does not pick them.
    if (now - change.made_at < kRedial) return next;
    for (const auto& child : children) {
      const bool covered = std::any_of(established.begin(), established.end(), [&](const vici::IkeSaInfo* sa) {
        return std::any_of(sa->child_sas.begin(), sa->child_sas.end(), [&](const vici::ChildSaInfo& c) {
          return c.name == child && (vici::is_installed(c.state) || vici::is_in_progress(c.state));
        });
      });
      if (!covered) next.initiate.push_back(child);
    }
    if (!next.initiate.empty()) next.step = ChangeStep::make;
    return next;
  }
  if (!change.made) {
    next.step = ChangeStep::make;
  } else if (!new_on_its_way && now - change.made_at >= kRedial) {
    // Nothing came of the last attempt. If charon put a CHILD SA into an old
    // IKE SA instead, asking again would only add more there.
    for (const auto* sa : old_sas) {
      for (const auto& child : sa->child_sas) {
        if (change.old_child_sas.count(child.uniqueid) == 0) {
          next.step = ChangeStep::fall_back;
          return next;
        }
      }
    }
    next.step = ChangeStep::make;
  }
  if (next.step == ChangeStep::make && change.method == ChangeMethod::reauthenticate) {
    for (const auto* sa : old_sas) {
      if (vici::is_established(sa->state)) {
        next.reauthenticate = sa->uniqueid;
        break;
      }
    }
    if (next.reauthenticate == 0) next.step = ChangeStep::wait;  // none established: wait for one, or for none
  } else if (next.step == ChangeStep::make && !children.empty()) {
    next.initiate = {children.front()};  // brings the IKE SA; the others follow once it is up
  }
  return next;
}

}  // namespace ergw::gateway
