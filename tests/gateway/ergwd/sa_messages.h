// vici messages shaped like charon 5.9.8's (list-sa, ike-updown, ike-rekey,
// log), for driving ergwd's tunnel model, health tracker, reconciler and
// status without a charon.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vici/message.h"
#include "vici/sa_info.h"

namespace ergw::gateway::testing {

struct ChildSpec {
  std::string name = {};
  std::string state = "INSTALLED";
  uint64_t uniqueid = 1;
  uint64_t packets_in = 0;
};

struct IkeSpec {
  std::string name = {};
  uint64_t uniqueid = 1;
  std::string state = "ESTABLISHED";
  std::string remote = "172.16.0.2";
  bool initiator = true;
  std::vector<ChildSpec> children = {};
};

// The IKE SA's section body (what list-sa puts under the connection's name).
vici::Section ike_section(const IkeSpec& spec);
// One list-sa event: { <name> = { ... } }.
vici::Message list_sa_event(const IkeSpec& spec);
// The typed view, as vici::list_sas delivers it.
vici::IkeSaInfo ike_sa(const IkeSpec& spec);
// ike-updown / child-updown (up = yes only when up).
vici::Message updown_event(const IkeSpec& spec, bool up);
// ike-rekey: old and new IKE SA of `name`.
vici::Message ike_rekey_event(const IkeSpec& old_sa, const IkeSpec& new_sa);
// child-rekey as vici_query.c builds it: the IKE SA's fields (of `ike`,
// without its children), then child-sas = { <old's name> = { old, new } }.
vici::Message child_rekey_event(const IkeSpec& ike, const ChildSpec& old_sa, const ChildSpec& new_sa);
// A "log" event as vici_logger.c builds it; ike_name "" for a line without
// an IKE SA, "(unnamed)" for one without a connection yet.
vici::Message log_event(const std::string& ike_name, uint64_t uniqueid, const std::string& message);

}  // namespace ergw::gateway::testing
