// Typed wrappers for the vici commands ergw uses (vici README @5.9.8, "Client-
// initiated commands"). Each builds the request, runs it on the Client and turns
// the reply into a typed result. A reply with `success = no` becomes an error
// carrying charon's `errmsg`. Secrets (load-shared data) are sent with
// CommandOptions::sensitive and never appear in an error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "vici/client.h"
#include "vici/sa_info.h"

namespace ergw::vici {

template <typename T>
using Callback = std::function<void(Result<T>)>;
using StatusCallback = std::function<void(Status)>;

// Success check for "simple" command replies: `success = yes`, else an error
// "<command> failed: <errmsg>".
Status check_success(std::string_view command, const Message& reply);

// One control-log line streamed by initiate/terminate.
struct ControlLogLine {
  std::string group;  // IKE, CHD, NET, ...
  int level = 0;
  std::string ike_name;
  std::optional<uint64_t> ike_uniqueid;
  std::string message;
};
ControlLogLine parse_control_log(const Message& event);

struct VersionInfo {
  std::string daemon;
  std::string version;
  std::string sysname;
  std::string release;
  std::string machine;
};
void version(Client& client, Callback<VersionInfo> done);

struct StatsInfo {
  std::string uptime_running;  // human text, e.g. "5 minutes"
  std::string uptime_since;    // "Nov 22 07:21:00 2026"
  uint64_t workers_total = 0;
  uint64_t workers_idle = 0;
  uint64_t scheduled = 0;
  uint64_t ikesas_total = 0;
  uint64_t ikesas_half_open = 0;
  std::vector<std::string> plugins;
};
void stats(Client& client, Callback<StatsInfo> done);

// load-conn: `config` holds the swanctl.conf keys of one connection; list-typed
// keys (local_addrs, proposals, local_ts, ...) must be lists: vici's
// load-conn parses them as lists only (strongSwan's vici README).
void load_conn(Client& client, std::string_view name, Section config, StatusCallback done);
void unload_conn(Client& client, std::string_view name, StatusCallback done);
// Names of the connections loaded over vici.
void get_conns(Client& client, Callback<std::vector<std::string>> done);
// Every connection charon knows (all backends), optionally only `ike`.
void list_conns(Client& client, std::optional<std::string> ike, Callback<std::vector<ConnInfo>> done);

struct SharedKeyInfo {
  std::string id;    // unique id for later unload-shared; may be empty
  std::string type = "IKE";  // IKE, EAP, XAUTH, NTLM
  std::vector<std::string> owners;  // identities the key belongs to
};
// The secret travels only in a request marked sensitive; it is not kept.
void load_shared(Client& client, const SharedKeyInfo& key, std::string_view secret,
                 StatusCallback done);
void unload_shared(Client& client, std::string_view id, StatusCallback done);
// Unique ids of the shared keys loaded over vici.
void get_shared(Client& client, Callback<std::vector<std::string>> done);

struct InitiateRequest {
  std::string child;  // CHILD config to initiate (with its IKE_SA)
  std::string ike;    // IKE config (to initiate only the IKE_SA, or to disambiguate)
  // charon's own wait for establishment, ms; 0 = indefinitely, <0 = do not wait
  // (then charon streams no control-log). The client's timeout follows this value.
  int timeout_ms = 30'000;
  bool init_limits = false;
  std::optional<int> loglevel;
};
void initiate(Client& client, const InitiateRequest& request,
              Callback<std::vector<ControlLogLine>> done);

struct TerminateRequest {
  std::string child;
  std::string ike;
  std::optional<uint64_t> child_id;
  std::optional<uint64_t> ike_id;
  bool force = false;
  int timeout_ms = 30'000;
};
struct TerminateResult {
  uint64_t matches = 0;
  uint64_t terminated = 0;
  std::vector<ControlLogLine> log;
};
void terminate(Client& client, const TerminateRequest& request, Callback<TerminateResult> done);

struct RekeyRequest {
  std::string child;
  std::string ike;
  std::optional<uint64_t> child_id;
  std::optional<uint64_t> ike_id;
  bool reauth = false;
};
// Completes with the number of matching SAs.
void rekey(Client& client, const RekeyRequest& request, Callback<uint64_t> done);

struct ListSasFilter {
  std::string ike;
  std::optional<uint64_t> ike_id;
  std::string child;
  std::optional<uint64_t> child_id;
  bool noblock = false;  // do not wait for SAs in use by other threads
};
void list_sas(Client& client, const ListSasFilter& filter, Callback<std::vector<IkeSaInfo>> done);

}  // namespace ergw::vici
