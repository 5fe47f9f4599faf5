// Typed views of charon's SA and connection data: the payload of list-sa events
// (list-sas command), ike-updown/child-updown events and list-conn events. Field
// names follow the vici README of 5.9.8 ("list-sa" event); numbers arrive as
// decimal strings. Fields charon omits in some states are optional.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "vici/message.h"
#include "vici/sa_state.h"

namespace ergw::vici {

struct ChildSaInfo {
  std::string key;   // the unique section name, e.g. "net-7"
  std::string name;  // the CHILD config name
  uint64_t uniqueid = 0;
  uint32_t reqid = 0;
  ChildSaState state = ChildSaState::created;
  std::string mode;      // TUNNEL, TRANSPORT, BEET
  std::string protocol;  // ESP, AH
  bool encap = false;    // UDP encapsulation
  std::string spi_in;    // hex, as charon sends it
  std::string spi_out;
  std::string encr_alg;
  std::optional<uint32_t> encr_keysize;
  std::string integ_alg;  // empty for AEAD
  std::optional<uint32_t> integ_keysize;
  std::string dh_group;   // empty without PFS
  bool esn = false;
  uint64_t bytes_in = 0;
  uint64_t packets_in = 0;
  uint64_t bytes_out = 0;
  uint64_t packets_out = 0;
  std::optional<uint64_t> use_in;   // seconds since the last inbound packet
  std::optional<uint64_t> use_out;
  std::optional<uint64_t> install_time;  // seconds since installed
  std::optional<uint64_t> rekey_time;    // seconds until rekeying
  std::optional<uint64_t> life_time;     // seconds until expiry
  std::vector<std::string> local_ts;
  std::vector<std::string> remote_ts;
};

struct IkeSaInfo {
  std::string name;  // the IKE config name (the section key)
  uint64_t uniqueid = 0;
  uint32_t version = 0;
  IkeSaState state = IkeSaState::created;
  std::string local_host;
  std::optional<uint16_t> local_port;
  std::string local_id;
  std::string remote_host;
  std::optional<uint16_t> remote_port;
  std::string remote_id;
  bool initiator = false;
  std::string initiator_spi;
  std::string responder_spi;
  std::string encr_alg;
  std::optional<uint32_t> encr_keysize;
  std::string integ_alg;
  std::optional<uint32_t> integ_keysize;
  std::string prf_alg;
  std::string dh_group;
  std::optional<uint64_t> established;  // seconds since established
  std::optional<uint64_t> rekey_time;   // seconds until rekeying
  std::optional<uint64_t> reauth_time;
  std::vector<ChildSaInfo> child_sas;
};

// One IKE SA section (`name = { uniqueid = ..., child-sas = {...} }`). Strict on
// what must be there (uniqueid, state), on the form of numbers and on state
// names (an unknown one is an error naming the allowed ones); lenient on
// optional fields, which charon leaves out depending on state.
Result<IkeSaInfo> parse_ike_sa(std::string_view name, const Section& section);
Result<ChildSaInfo> parse_child_sa(std::string_view key, const Section& section);
// Every IKE SA section in a list-sa event (normally exactly one).
Result<std::vector<IkeSaInfo>> parse_list_sa_event(const Message& event);

// ike-updown / child-updown: `up = yes` only when up, then the IKE SA section.
struct UpDownEvent {
  bool up = false;
  IkeSaInfo ike_sa;
};
Result<UpDownEvent> parse_updown_event(const Message& event);

// ike-rekey: `<ike-name> = { old = {IKE SA}, new = {IKE SA} }`. After it, the
// old IKE SA (REKEYED) is deleted by whichever side initiated the rekey: that
// DELETE is routine, not a failure.
struct IkeRekeyEvent {
  std::string name;  // the IKE config name
  IkeSaInfo old_sa;
  IkeSaInfo new_sa;
};
Result<IkeRekeyEvent> parse_ike_rekey_event(const Message& event);

// child-rekey: `<ike-name> = { IKE SA fields, child-sas = { <child> = { old =
// {...}, new = {...} } } }`.
struct ChildRekeyEvent {
  std::string ike_name;
  uint64_t ike_uniqueid = 0;
  ChildSaInfo old_sa;
  ChildSaInfo new_sa;
};
Result<ChildRekeyEvent> parse_child_rekey_event(const Message& event);

// A connection as list-conns reports it (list-conn event), reduced to what a
// controller checks; `raw` keeps the whole section.
struct ConnInfo {
  std::string name;
  std::vector<std::string> local_addrs;
  std::vector<std::string> remote_addrs;
  std::string version;  // "IKEv1", "IKEv2" or "IKEv1/2"
  std::vector<std::string> children;
  Section raw;
};
Result<std::vector<ConnInfo>> parse_list_conn_event(const Message& event);

}  // namespace ergw::vici
