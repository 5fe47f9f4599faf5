#include "gateway/ergwd/pfs_probe.h"

#include <algorithm>

#include "vici/sa_info.h"

namespace ergw::gateway {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// charon 5.9.8's key_exchange_method_names -> Azure's pfsGroup spelling.
std::string azure_pfs_name(std::string_view charon_group) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"MODP_768", "PFS1"},  {"MODP_1024", "PFS2"}, {"MODP_2048", "PFS2048"}, {"ECP_256", "ECP256"},
      {"ECP_384", "ECP384"}, {"MODP_2048_256", "PFS24"}};
  for (const auto& [charon, azure] : kNames) {
    if (charon == charon_group) return std::string(azure);
  }
  return std::string(charon_group);
}

// "peer didn't accept DH group MODP_2048, it requested ECP_384" -> "ECP_384".
std::string requested_group(std::string_view line) {
  constexpr std::string_view kMarker = "it requested ";
  const auto at = line.find(kMarker);
  if (at == std::string_view::npos) return {};
  auto group = line.substr(at + kMarker.size());
  return std::string(group.substr(0, group.find_first_of(" ,")));
}

std::string fix_text(const std::string& ergw_group) {
  const std::string shown = ergw_group.empty() ? "None" : ergw_group;
  return "fix: give both sides the same PFS group - on Azure the connection's ipsecPolicies[].pfsGroup (az network "
         "vpn-connection ipsec-policy add ... --pfs-group " +
         shown +
         " matches ergw), or in ergw's configuration the connection's pfsGroup (azure.ipsecPolicies[].pfsGroup, or "
         "pfs-group= in ipsecPolicy) set to Azure's value";
}

}  // namespace

std::string_view to_string(PfsProbeState state) {
  switch (state) {
    case PfsProbeState::off: return "off";
    case PfsProbeState::waiting: return "waiting";
    case PfsProbeState::probing: return "probing";
    case PfsProbeState::verified: return "verified";
    case PfsProbeState::mismatch: return "mismatch";
    case PfsProbeState::inconclusive: return "inconclusive";
    case PfsProbeState::not_probed: return "not_probed";
  }
  return "?";
}

std::string pfs_mismatch_finding(const std::string& connection, const std::string& ergw_group, bool azure_refused,
                                 const std::string& azure_requested) {
  const bool ergw_has_pfs = !ergw_group.empty() && ergw_group != "None";
  std::string out = connection + ": PFS mismatch: ";
  if (azure_refused) {
    out += ergw_has_pfs ? "ergw has PFS (pfsGroup " + ergw_group + ") and Azure refused ergw's CHILD rekey with it"
                        : "ergw has no PFS (pfsGroup None) and Azure refused ergw's CHILD rekey without it";
    if (!azure_requested.empty()) {
      out += "; Azure asked for group " + azure_requested + " (pfsGroup " + azure_pfs_name(azure_requested) + ")";
    } else {
      out += ergw_has_pfs ? "; Azure most likely has no PFS (pfsGroup None) or another group"
                          : "; Azure most likely requires PFS (its pfsGroup is not None)";
    }
  } else {
    out += ergw_has_pfs ? "Azure rekeyed the CHILD SA without ergw's PFS group " + ergw_group +
                              " and ergw refused it; Azure most likely has no PFS (pfsGroup None, or no custom "
                              "policy: Azure then rekeys without PFS) or another group"
                        : "Azure rekeyed the CHILD SA with a PFS group and ergw, without PFS (pfsGroup None), "
                          "refused it; Azure most likely requires PFS";
  }
  out += ". The tunnel goes down when the current CHILD SA expires; " + fix_text(ergw_group);
  return out;
}

PfsProbe::PfsProbe(Clock& clock, Rekey rekey, Report report)
    : clock_(clock), rekey_(std::move(rekey)), report_(std::move(report)) {}

void PfsProbe::set_connections(std::vector<PfsProbeConnection> connections) {
  std::map<std::string, Entry> next;
  for (auto& c : connections) {
    Entry entry;
    auto old = entries_.find(c.name);
    const bool same = old != entries_.end() && old->second.config.pfs_group == c.pfs_group &&
                      old->second.config.enabled == c.enabled;
    if (same) {
      entry.status = old->second.status;
    } else {
      entry.status.state = c.enabled ? PfsProbeState::waiting : PfsProbeState::off;
      entry.status.pfs_group = c.pfs_group;
    }
    entry.config = std::move(c);
    next.emplace(entry.config.name, std::move(entry));
  }
  entries_ = std::move(next);
  // Probes of connections that changed or went: their answers mean nothing now.
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    auto e = entries_.find(it->second.connection);
    if (e == entries_.end() || e->second.status.state != PfsProbeState::probing) {
      it = in_flight_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = probed_.begin(); it != probed_.end();) {
    it = entries_.count(it->second) ? std::next(it) : probed_.erase(it);
  }
}

void PfsProbe::charon_restarted() {
  ++generation_;
  in_flight_.clear();
  probed_.clear();
  found_up_.clear();
  // Its SAs are new and not probed yet; a mismatch stays (the configuration
  // did not change), as do the times of earlier results.
  for (auto& [name, entry] : entries_) {
    auto& state = entry.status.state;
    if (state == PfsProbeState::probing || state == PfsProbeState::verified || state == PfsProbeState::inconclusive ||
        state == PfsProbeState::not_probed) {
      state = PfsProbeState::waiting;
    }
  }
}

const PfsProbeStatus* PfsProbe::find(const std::string& connection) const {
  auto it = entries_.find(connection);
  return it == entries_.end() ? nullptr : &it->second.status;
}

PfsProbe::Entry* PfsProbe::entry_of_ike(const std::string& ike_name) {
  auto it = entries_.find(ike_name);
  return it == entries_.end() ? nullptr : &it->second;
}

PfsProbe::Entry* PfsProbe::entry_of_child(const std::string& child_name) {
  for (auto& [name, entry] : entries_) {
    const auto& children = entry.config.children;
    if (std::find(children.begin(), children.end(), child_name) != children.end()) return &entry;
  }
  return nullptr;
}

void PfsProbe::on_event(const std::string& name, const vici::Message& message) {
  if (name == "child-updown") {
    on_child_updown(message);
  } else if (name == "child-rekey") {
    on_child_rekey(message);
  } else if (name == "ike-updown") {
    on_ike_down(message);
  } else if (name == "ike-rekey") {
    // The CHILD SAs move to the new IKE SA: it is as probed as the old one.
    auto event = vici::parse_ike_rekey_event(message);
    if (!event) return;
    auto it = probed_.find(event->old_sa.uniqueid);
    if (it == probed_.end()) return;
    probed_[event->new_sa.uniqueid] = it->second;
    if (probed_.size() > kIkeSasKept) probed_.erase(probed_.begin());
  } else if (name == "log") {
    on_log(message);
  }
}

void PfsProbe::on_child_updown(const vici::Message& message) {
  auto event = vici::parse_updown_event(message);
  if (!event || !event->up) return;
  Entry* entry = entry_of_ike(event->ike_sa.name);
  if (entry == nullptr) return;
  const uint64_t ike_id = event->ike_sa.uniqueid;
  // Once per IKE SA; one the SA list showed before its up event is probed now.
  if (probed_.count(ike_id) && found_up_.erase(ike_id) == 0) {
    // A further CHILD SA of an IKE SA that is up came by CREATE_CHILD_SA,
    // with a KE payload exactly when a PFS group is configured (a CHILD
    // change brought in hitless, a policy-based pair more): the PFS settings
    // agree, as after a rekey. A probe on its way decides by itself.
    const auto state = entry->status.state;
    if (entry->config.enabled && state != PfsProbeState::verified && state != PfsProbeState::probing) {
      verified(*entry, "a new CHILD SA in the running IKE SA (CREATE_CHILD_SA) was accepted");
    }
    return;
  }
  probed_[ike_id] = entry->config.name;
  if (probed_.size() > kIkeSasKept) probed_.erase(probed_.begin());
  if (!entry->config.enabled || in_flight_.size() >= kIkeSasKept) return;
  const vici::ChildSaInfo* child = nullptr;
  for (const auto& c : event->ike_sa.child_sas) {
    if (c.state == vici::ChildSaState::installed) child = &c;
  }
  if (child == nullptr) return;
  Probe probe;
  probe.connection = entry->config.name;
  probe.ike_id = ike_id;
  probe.child_id = child->uniqueid;
  probe.timer = clock_.make_timer();
  auto& placed = in_flight_[ike_id] = std::move(probe);
  if (entry->status.state == PfsProbeState::not_probed) entry->status.finding.clear();
  if (entry->status.state != PfsProbeState::mismatch) entry->status.state = PfsProbeState::probing;
  placed.timer->start(kSettle, [this, ike_id] { send(ike_id); });
}

void PfsProbe::send(uint64_t ike_id) {
  auto it = in_flight_.find(ike_id);
  if (it == in_flight_.end()) return;
  Probe& probe = it->second;
  probe.sent = true;
  probe.sent_at = clock_.now();
  if (auto* entry = entry_of_ike(probe.connection)) ++entry->status.probes;
  probe.timer->start(kAnswerTimeout, [this, ike_id] { timed_out(ike_id); });
  const uint64_t generation = generation_;
  std::weak_ptr<bool> alive = alive_;
  rekey_(probe.connection, probe.child_id, [this, alive, generation, ike_id](std::string error) {
    if (alive.expired() || generation != generation_ || error.empty()) return;
    inconclusive(ike_id, "charon did not take the rekey request", error);
  });
}

void PfsProbe::timed_out(uint64_t ike_id) {
  inconclusive(ike_id, "no answer to the rekey within " + std::to_string(kAnswerTimeout.count()) + " s", "");
}

void PfsProbe::on_child_rekey(const vici::Message& message) {
  auto event = vici::parse_child_rekey_event(message);
  if (!event) return;
  Entry* entry = entry_of_ike(event->ike_name);
  if (entry == nullptr) entry = entry_of_child(event->old_sa.name);
  if (entry == nullptr) return;
  auto it = in_flight_.find(event->ike_uniqueid);
  if (it != in_flight_.end() && it->second.child_id == event->old_sa.uniqueid && it->second.sent) {
    entry->status.took =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - it->second.sent_at);
    in_flight_.erase(it);
    verified(*entry, "the probe's CHILD rekey was accepted by Azure");
    return;
  }
  // Any other rekey of the connection that succeeded (either side's): the
  // PFS settings agree in that direction.
  if (entry->config.enabled && entry->status.state != PfsProbeState::verified) {
    verified(*entry, "a CHILD rekey succeeded");
  }
}

void PfsProbe::on_ike_down(const vici::Message& message) {
  auto event = vici::parse_updown_event(message);
  if (!event || event->up) return;
  const uint64_t ike_id = event->ike_sa.uniqueid;
  if (in_flight_.count(ike_id)) inconclusive(ike_id, "the IKE SA went down during the probe", "");
  probed_.erase(ike_id);
  found_up_.erase(ike_id);
}

void PfsProbe::note_established(const std::vector<vici::IkeSaInfo>& sas) {
  for (const auto& sa : sas) {
    Entry* entry = entry_of_ike(sa.name);
    if (entry == nullptr || !vici::is_established(sa.state) || probed_.count(sa.uniqueid)) continue;
    const bool installed = std::any_of(sa.child_sas.begin(), sa.child_sas.end(),
                                       [](const vici::ChildSaInfo& c) { return vici::is_installed(c.state); });
    if (!installed) continue;
    probed_[sa.uniqueid] = entry->config.name;
    found_up_.insert(sa.uniqueid);
    if (probed_.size() > kIkeSasKept) {
      found_up_.erase(probed_.begin()->first);
      probed_.erase(probed_.begin());
    }
    if (found_up_.size() > kIkeSasKept) found_up_.erase(found_up_.begin());
    if (!entry->config.enabled || entry->status.state != PfsProbeState::waiting) continue;
    entry->status.state = PfsProbeState::not_probed;
    entry->status.finding = "IKE SA #" + std::to_string(sa.uniqueid) +
                            " was established before ergwd started; a running tunnel is not rekeyed for the probe: "
                            "the connection's next IKE SA is probed";
    report_(false, entry->config.name + ": PFS probe: " + entry->status.finding);
  }
}

void PfsProbe::on_log(const vici::Message& message) {
  const auto id = message.get_uint("ikesa-uniqueid");
  if (!id) return;
  const uint64_t ike_id = *id;
  const std::string text(message.string_or("msg", ""));
  auto flight = in_flight_.find(ike_id);
  if (flight != in_flight_.end() && flight->second.sent) {
    Probe& probe = flight->second;
    Entry* entry = entry_of_ike(probe.connection);
    if (entry == nullptr) return;
    if (starts_with(text, "peer didn't accept DH group")) {
      probe.requested_group = requested_group(text);  // charon may still retry with it
      return;
    }
    if (starts_with(text, "received NO_PROPOSAL_CHOSEN notify")) {
      entry->status.took =
          std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - probe.sent_at);
      const std::string requested = probe.requested_group;
      in_flight_.erase(flight);
      mismatch(*entry, pfs_mismatch_finding(entry->config.name, entry->config.pfs_group, true, requested), text);
      return;
    }
    if (starts_with(text, "received TEMPORARY_FAILURE notify")) return;  // a collision: charon retries
    if ((starts_with(text, "received ") && text.find("no CHILD_SA built") != std::string::npos) ||
        starts_with(text, "CHILD_SA rekeying failed") || starts_with(text, "already retried with DH group")) {
      inconclusive(ike_id, "the CHILD rekey failed for another reason than PFS", text);
      return;
    }
    return;
  }
  // ergw refused a CHILD proposal on an IKE SA whose first CHILD SA (the same
  // proposals, keyed without a group) was accepted: the group differs. That
  // is Azure's rekey (or another CREATE_CHILD_SA) refused for PFS.
  if (text == "no acceptable proposal found") {
    auto probed = probed_.find(ike_id);
    if (probed == probed_.end()) return;
    Entry* entry = entry_of_ike(probed->second);
    if (entry == nullptr || !entry->config.enabled) return;
    mismatch(*entry, pfs_mismatch_finding(entry->config.name, entry->config.pfs_group, false), text);
  }
}

void PfsProbe::verified(Entry& entry, const std::string& how) {
  const bool was_mismatch = entry.status.state == PfsProbeState::mismatch;
  entry.status.state = PfsProbeState::verified;
  entry.status.verified_at = clock_.wall_now();
  entry.status.finding.clear();
  entry.status.detail.clear();
  std::string line = entry.config.name + ": PFS verified (pfsGroup " + entry.config.pfs_group + "): " + how;
  if (entry.status.took) line += " in " + std::to_string(entry.status.took->count()) + " ms";
  if (was_mismatch) line += "; the earlier PFS mismatch is over";
  report_(false, line);
}

void PfsProbe::mismatch(Entry& entry, const std::string& finding, const std::string& detail) {
  const bool repeated = entry.status.state == PfsProbeState::mismatch && entry.status.finding == finding;
  entry.status.state = PfsProbeState::mismatch;
  entry.status.mismatch_at = clock_.wall_now();
  entry.status.finding = finding;
  entry.status.detail = detail;
  // charon retries a refused rekey every 5-15 s: one log line per finding.
  if (!repeated) report_(true, finding);
}

void PfsProbe::inconclusive(uint64_t ike_id, const std::string& why, const std::string& detail) {
  auto it = in_flight_.find(ike_id);
  if (it == in_flight_.end()) return;
  const std::string connection = it->second.connection;
  in_flight_.erase(it);
  Entry* entry = entry_of_ike(connection);
  if (entry == nullptr) return;
  report_(false, connection + ": PFS probe inconclusive: " + why + (detail.empty() ? "" : " (" + detail + ")"));
  // A finding already made, or another probe of the connection still on its
  // way (both sides dialled at once), stands.
  for (const auto& [id, probe] : in_flight_) {
    if (probe.connection == connection) return;
  }
  if (entry->status.state != PfsProbeState::probing) return;
  entry->status.state = PfsProbeState::inconclusive;
  entry->status.finding = why;
  entry->status.detail = detail;
}

}  // namespace ergw::gateway
