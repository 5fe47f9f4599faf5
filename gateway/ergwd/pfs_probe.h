// PfsProbe: finds a PFS mismatch with Azure right after a tunnel comes up,
// instead of at the first CHILD rekey hours later.
//
// Why a probe. The first CHILD SA of an IKE SA is keyed from the IKE SA's own
// key material (RFC 7296 section 1.2): its proposal carries no key exchange,
// so a PFS group configured on one side only goes unnoticed until a
// CREATE_CHILD_SA rekey, by default hours later (Azure's saLifeTimeSeconds,
// 27,000 s). strongSwan 5.9.8 matches a proposal's key-exchange transform
// strictly (a group against no group fails unless NONE is also proposed), and
// Azure with a custom policy "will only send or accept" its one proposal, so
// the rekey is refused with NO_PROPOSAL_CHOSEN and the tunnel dies at the end
// of the CHILD SA's life.
//
// What it does. Once per IKE SA - the first time one of the connection's
// CHILD SAs comes up on it (child-updown) - it waits kSettle and asks charon
// (vici `rekey`, by the CHILD SA's unique id) for one rekey of that CHILD SA.
// charon sends CREATE_CHILD_SA with the configured ESP proposal: with a KE
// payload when ergw has a PFS group, without one when it has none. Then:
//   - child-rekey for that CHILD SA: Azure accepted ergw's PFS setting:
//     verified (with the time and how long the exchange took);
//   - "received NO_PROPOSAL_CHOSEN notify" on that IKE SA: a mismatch; the
//     finding says which side has PFS and which not, and the fix;
//   - "peer didn't accept DH group X, it requested Y": Azure wants another
//     group (kept for the finding; charon retries with Y only if it is
//     configured, which it is not with Azure's one-group policies);
//   - any other CHILD failure on that IKE SA, the IKE SA going away, or no
//     answer within kAnswerTimeout: inconclusive (said so, not a mismatch).
// A rekey Azure initiates and ergw refuses ("no acceptable proposal found" on
// an established IKE SA of the connection: its first CHILD SA, with the same
// proposals without a group, was accepted, so the group is what differs) is a
// mismatch too, found without a probe; and any later CHILD rekey that succeeds
// clears a mismatch (verified again), as does a further CHILD SA that comes up
// in a running IKE SA (CREATE_CHILD_SA, so with ergw's PFS setting: a CHILD
// change brought in hitless, reconciler.h, right after the configuration
// changed the PFS group).
//
// A mismatch stays reported until the configuration changes (set_connections
// with another PFS group or probe setting), or a later rekey succeeds.
//
// Cost: one CREATE_CHILD_SA exchange and the INFORMATIONAL that deletes the
// old CHILD SA (two requests, two responses) per IKE SA, lossless like any
// CHILD rekey. After a refused probe charon retries the rekey itself every
// 5-15 s (strongSwan's RETRY_INTERVAL 15 s less up to 10 s jitter) for as long
// as the mismatch lasts, exactly as it would at the scheduled rekey.
//
// Limitation: the probe tests the direction ergw -> Azure. Azure with a custom
// policy offers what it accepts, so that answers both directions; Azure
// without one accepts PFS groups it never offers as initiator (it rekeys
// without PFS), which only the refused Azure-initiated rekey shows.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "vici/message.h"
#include "vici/sa_info.h"

namespace ergw::gateway {

// What the probe needs of a configured connection.
struct PfsProbeConnection {
  std::string name;
  std::vector<std::string> children;  // CHILD config names
  std::string pfs_group;              // Azure's spelling: "None", "PFS2048", "ECP384", ...
  bool enabled = true;                // pfsProbe in the configuration
};

enum class PfsProbeState {
  off,           // turned off in the configuration
  waiting,       // no CHILD SA came up since ergwd started (or since the configuration changed)
  probing,       // the rekey is on its way
  verified,      // Azure accepted a rekey with ergw's PFS setting
  mismatch,      // Azure refused it, or ergw refused Azure's
  inconclusive,  // the probe failed for another reason (said in `detail`)
  not_probed,    // its IKE SA was established before ergwd started (or connected to charon): no up event
                 // came, and ergwd does not rekey a running tunnel just for the probe; its next IKE SA is probed
};
std::string_view to_string(PfsProbeState state);

struct PfsProbeStatus {
  PfsProbeState state = PfsProbeState::waiting;
  std::string pfs_group;  // ergw's, Azure's spelling
  std::optional<std::chrono::system_clock::time_point> verified_at;
  std::optional<std::chrono::system_clock::time_point> mismatch_at;
  std::optional<std::chrono::milliseconds> took;  // the last probe, request to answer
  std::string finding;  // mismatch: which side has PFS, which not, and the fix; inconclusive: why
  std::string detail;   // charon's own line
  uint64_t probes = 0;  // rekeys ergwd asked for
};

class PfsProbe {
 public:
  // Asks charon to rekey the CHILD SA `child_id` of `connection`; `done`
  // gets "" when charon took the request, else charon's error.
  using Rekey = std::function<void(const std::string& connection, uint64_t child_id,
                                   std::function<void(std::string error)> done)>;
  // What the probe found, one line each (the log).
  using Report = std::function<void(bool problem, const std::string& line)>;

  // After the CHILD SA is up: both sides have installed it (Azure as
  // initiator has processed the IKE_AUTH response) before the rekey arrives.
  static constexpr std::chrono::milliseconds kSettle{1000};
  // With no answer by then the probe is inconclusive (charon's retransmits
  // give up after about 2 minutes and take the IKE SA down anyway).
  static constexpr std::chrono::seconds kAnswerTimeout{30};

  PfsProbe(Clock& clock, Rekey rekey, Report report);

  // The configured connections. A connection whose PFS group or probe setting
  // changed starts over (waiting); connections no longer configured are dropped.
  void set_connections(std::vector<PfsProbeConnection> connections);
  // charon (re)started: its unique ids begin again; probes in flight are void
  // and the connections wait for their new SAs (a mismatch stays).
  void charon_restarted();
  // child-updown, child-rekey, ike-updown and log events; others are ignored.
  void on_event(const std::string& name, const vici::Message& message);
  // charon's SA list (every reconciler pass): a waiting connection whose IKE
  // SA is established with a CHILD SA installed, without an up event seen
  // for it, came up before ergwd started: not_probed, instead of waiting for
  // an event that will not come. Its IKE SA is watched like a probed one (a
  // rekey of Azure's that ergw refuses is still a mismatch), and an up event
  // that does come for it later (the list overtook the event) still probes it.
  void note_established(const std::vector<vici::IkeSaInfo>& sas);

  const PfsProbeStatus* find(const std::string& connection) const;
  // IKE SAs remembered as probed (bounded by kIkeSasKept).
  size_t ike_sas_tracked() const { return probed_.size(); }

  // charon's events are outside input: what is kept per IKE SA is bounded
  // (the oldest, lowest unique id goes first; ids only grow within a charon).
  static constexpr size_t kIkeSasKept = 256;

 private:
  struct Probe {
    std::string connection;
    uint64_t ike_id = 0;
    uint64_t child_id = 0;
    bool sent = false;
    Clock::TimePoint sent_at{};
    std::string requested_group;  // from INVALID_KE_PAYLOAD
    std::unique_ptr<Timer> timer;
  };
  struct Entry {
    PfsProbeConnection config;
    PfsProbeStatus status;
  };

  void on_child_updown(const vici::Message& message);
  void on_child_rekey(const vici::Message& message);
  void on_ike_down(const vici::Message& message);
  void on_log(const vici::Message& message);
  void send(uint64_t ike_id);
  void timed_out(uint64_t ike_id);

  void verified(Entry& entry, const std::string& how);
  void mismatch(Entry& entry, const std::string& finding, const std::string& detail);
  void inconclusive(uint64_t ike_id, const std::string& why, const std::string& detail);
  Entry* entry_of_ike(const std::string& ike_name);
  Entry* entry_of_child(const std::string& child_name);

  Clock& clock_;
  Rekey rekey_;
  Report report_;
  std::map<std::string, Entry> entries_;
  std::map<uint64_t, std::string> probed_;  // IKE SA unique id -> connection (probed or being probed)
  std::set<uint64_t> found_up_;              // IKE SAs note_established found, not probed (bounded like probed_)
  std::map<uint64_t, Probe> in_flight_;     // by IKE SA unique id
  uint64_t generation_ = 0;                 // of charon: answers for an older one are dropped
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

 public:
  ~PfsProbe() { *alive_ = false; }
  PfsProbe(const PfsProbe&) = delete;
  PfsProbe& operator=(const PfsProbe&) = delete;
};

// The finding for a refused probe or a refused Azure rekey, with the fix.
// `ergw_group`: ergw's PFS group ("None" for none); `azure_refused`: Azure
// refused ergw's rekey (else ergw refused Azure's); `azure_requested`: the
// group Azure asked for, when it said.
std::string pfs_mismatch_finding(const std::string& connection, const std::string& ergw_group, bool azure_refused,
                                 const std::string& azure_requested = {});

}  // namespace ergw::gateway
