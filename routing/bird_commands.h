// The commands ergw sends BIRD, typed, over the asynchronous BirdClient:
// each builds its request line (names that are not BIRD symbols never reach
// BIRD), sends it, and parses the reply. Completions run on the client's
// executor.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "routing/bird_client.h"
#include "routing/bird_config_writer.h"
#include "routing/protocol_status.h"
#include "routing/route.h"

namespace ergw::routing {

template <typename T>
using Completion = std::function<void(Result<T>)>;
using StatusCompletion = std::function<void(Status)>;

// `show protocols all` or `show protocols all "pattern"` (a BIRD shell
// pattern, e.g. "ergw_*").
Result<std::string> show_protocols_command(const std::string& pattern = "");

struct RouteQuery {
  std::string table;     // BIRD table name, e.g. "master4"; empty: the default table
  std::string protocol;  // only routes from this protocol; empty: all
  bool all = true;       // `all`: attributes and the full AS path
};
Result<std::string> show_route_command(const RouteQuery& query);

inline constexpr const char* kShowStatusCommand = "show status";

// No matching protocol is an empty list.
void query_protocols(BirdClient& client, const std::string& pattern, Completion<std::vector<ProtocolStatus>> done);
void query_routes(BirdClient& client, const RouteQuery& query, Completion<std::vector<Route>> done);
void query_status(BirdClient& client, Completion<DaemonStatus> done);

// `enable NAME` / `disable NAME`: a disabled BGP protocol closes its session
// and withdraws its routes at once.
enum class ProtocolSwitch { enable, disable };
const char* to_string(ProtocolSwitch change);
void switch_protocol(BirdClient& client, const std::string& protocol, ProtocolSwitch change, StatusCompletion done);

// How a change of BIRD's configuration ended. A refusal is BIRD's verdict on
// the file (sending it again changes nothing); "not answering" says nothing
// about the file (try again when BIRD answers).
enum class ConfigVerdict { applied, refused, bird_not_answering, not_written };
struct ConfigOutcome {
  ConfigVerdict verdict = ConfigVerdict::applied;
  std::string message;  // BIRD's own message for a refusal: file:line:column and reason
  bool ok() const { return verdict == ConfigVerdict::applied; }
};
using ConfigCompletion = std::function<void(ConfigOutcome)>;

// `configure check "path"`.
void check_config(BirdClient& client, const std::string& config_path, ConfigCompletion done);

// Replaces the configuration of a running BIRD without a restart: writes
// `text` (mode 0600) beside `config_path` as "<config_path>.new", has BIRD
// check it, and only if BIRD accepts it renames it over `config_path` and
// runs `configure "config_path"`. Otherwise `config_path` and the running
// configuration stay as they were. `config_path` must be the file BIRD was
// started with (-c), so a restarted BIRD comes back with the last good
// configuration. With `owner`, the file is given to BIRD's user.
void install_config(BirdClient& client, const std::string& config_path, const std::string& text,
                    const std::optional<FileOwner>& owner, ConfigCompletion done);

}  // namespace ergw::routing
