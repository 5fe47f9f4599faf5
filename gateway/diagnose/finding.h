// A finding of `ergw diagnose`: one check of Azure's site-to-site
// troubleshooting path, for one connection (or the appliance), with what was
// seen (evidence) and what to change (fix). Plain values; the JSON is what
// GET /v1/diagnose returns and `ergw diagnose --json` prints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ergw::diagnose {

enum class Outcome {
  ok,       // checked, and nothing wrong
  warning,  // works now, or cannot be told for sure, but something needs a look
  fail,     // this breaks the tunnel (or its traffic)
  skipped,  // does not apply, or the evidence it needs is not there
};

std::string_view to_string(Outcome outcome);

struct Finding {
  std::string check;       // underlay, path_mtu, ike_reachability, ... (docs/diagnose.md)
  std::string connection;  // empty: the appliance as a whole
  Outcome result = Outcome::skipped;
  std::string evidence;    // what was seen, with numbers and charon's or BIRD's words
  std::string fix;         // which field, which az command; empty when ok
};

nlohmann::json to_json(const Finding& finding);
nlohmann::json to_json(const std::vector<Finding>& findings);

}  // namespace ergw::diagnose
