#include "gateway/ergwd/route_selection.h"

namespace ergw::gateway {

RouteSelection select_routes(const std::vector<ConnectionPlan>& plans, const std::set<std::string>& tunnels_up) {
  struct Candidates {
    int best_up = -1;   // best preference among tunnels that are up (-1: none up)
    int best_any = -1;  // best preference among all
  };
  std::map<IpPrefix, Candidates> by_prefix;
  const auto better = [](int current, int preference) { return current < 0 || preference < current; };
  for (const auto& plan : plans) {
    const bool up = tunnels_up.count(plan.name) != 0;
    for (const auto& prefix : plan.routes) {
      Candidates& c = by_prefix[prefix];
      const int preference = plan.route_preference;
      if (better(c.best_any, preference)) c.best_any = preference;
      if (up && better(c.best_up, preference)) c.best_up = preference;
    }
  }
  RouteSelection out;
  for (size_t i = 0; i < plans.size(); ++i) {
    const bool up = tunnels_up.count(plans[i].name) != 0;
    for (const auto& prefix : plans[i].routes) {
      const Candidates& c = by_prefix.at(prefix);
      const bool carries = c.best_up >= 0 ? (up && plans[i].route_preference == c.best_up)
                                          : plans[i].route_preference == c.best_any;
      if (carries) out[prefix].push_back(i);
    }
  }
  return out;
}

}  // namespace ergw::gateway
