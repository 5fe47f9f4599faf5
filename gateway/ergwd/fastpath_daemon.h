// FastpathDaemon: ergwd's side of the fast path data plane (dataPlane
// fastpath). It
//   - runs ergw-fastpath under host::Supervisor (restart with backoff) with
//     its control socket, sequence file and TUN device (ergwfp0), or adopts
//     one that already answers on the socket (ergwd restarted: the fast path
//     kept carrying the tunnels and is not restarted);
//   - knows when it is ready (it answers HELLO on the control socket) and
//     when a new instance runs (HELLO's instance changes), and then hands it
//     ergwd's routes for route-based selection (ADD_ROUTE prefix -> if_id)
//     and calls on_ready, so that ergwd routes into the new TUN device (it
//     goes away with the process; charon installs no routes with the
//     ergw-ipsec plugin);
//   - polls STATUS once a second for `ergw status`: per connection (reqid)
//     packets, bytes and drops by named reason. report() never waits: it gives
//     the last answer with its age.
// charon's SAs reach the fast path through the ergw-ipsec plugin, which
// replays them after a restart; ergwd never sees a key.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/ip_prefix.h"
#include "gateway/ergwd/bgp_controller.h"
#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/fastpath_connection.h"
#include "host/supervisor.h"

namespace ergw::gateway {

struct FastpathOptions {
  FastpathInstallation installation;
  // The control socket (charon's plugin connects here too: ergwd writes it
  // into charon's settings), the sequence file (tmpfs) and the daemon's log.
  std::string socket = "/run/ergw/fastpath.sock";
  std::string sequence_file = "/run/ergw/fastpath.seq";
  std::string log_file = "/run/ergw/fastpath.log";
  std::string tun = kFastpathDevice;
  std::vector<std::string> extra_arguments;  // e.g. --cpus 1, --queues 2
  std::chrono::milliseconds call_timeout{1000};
  std::chrono::milliseconds status_interval{1000};
  std::chrono::milliseconds ready_poll{100};
  host::Backoff backoff;
};

// A route the fast path uses to pick a route-based connection's SAs.
struct FastpathRoute {
  IpPrefix prefix{IpAddress(), 0};
  uint32_t if_id = 0;
  auto operator<=>(const FastpathRoute&) const = default;
};

// The fast path's routes for route-based selection: each route-based
// connection's routes (static prefixes and the host route to Azure's BGP
// address) into the tunnels route_selection.h picks from `tunnels_up`, and
// the prefixes BIRD selected from each BGP session (`learned`, per
// connection), each to the connection's own if_id. The kernel routes all of
// them into the one TUN device; this table is how the fast path picks the
// tunnel. A prefix with several if_ids is ECMP in the fast path (a flow hash
// keeps each flow on one tunnel): the two tunnels of an active-active gateway
// without a preferred instance, or two sessions both selected by BIRD's
// `merge paths`. Configured prefixes win over learned ones. Policy-based
// connections need none (their policies select).
std::set<FastpathRoute> plan_fastpath_routes(const std::vector<ConnectionPlan>& plans, const LearnedRoutes& learned,
                                             const std::set<std::string>& tunnels_up);

class FastpathDaemon {
 public:
  FastpathDaemon(boost::asio::any_io_executor executor, ergw::Clock& clock, host::Launcher& launcher,
                 FastpathOptions options);
  // Leaves the fast path running (stopping ergwd keeps the tunnels up).
  ~FastpathDaemon();
  FastpathDaemon(const FastpathDaemon&) = delete;
  FastpathDaemon& operator=(const FastpathDaemon&) = delete;

  // Adopts a fast path that answers on the socket, or starts one.
  void start();
  // Ends the fast path (the data plane switched away from it): SIGTERM, and
  // SIGKILL after `grace`; `done` runs on the executor once it is gone. An
  // adopted one, which is not our child, gets SIGTERM.
  void stop(std::chrono::milliseconds grace, std::function<void()> done);
  // The routes for route-based selection; sent at once when ready, and to
  // every new instance.
  void set_routes(std::set<FastpathRoute> routes);
  // A new instance is ready (first start, restart, adoption).
  void on_ready(std::function<void()> handler) { on_ready_ = std::move(handler); }

  bool ready() const { return ready_; }
  const std::string& device() const { return options_.tun; }
  // The "fastpath" object of `ergw status`: state, pid, restarts, last exit,
  // and the last STATUS document with its age. Never waits.
  nlohmann::json report() const;

  // charon settings for this data plane (strongswan.conf syntax): ergw-ipsec
  // loaded before kernel-netlink with our socket, kernel-libipsec never.
  std::string charon_settings() const;

 private:
  enum class State { starting, ready, not_answering, exited, start_failed };
  void launch();
  void poll_ready();
  void hello();
  void became_ready(uint64_t instance);
  void lost(const std::string& why);
  void supervisor_event(const host::ServiceEvent& event);
  void push_routes(const std::set<FastpathRoute>& add, const std::set<FastpathRoute>& remove);
  void poll_status();
  std::string state_name() const;

  boost::asio::any_io_executor executor_;
  ergw::Clock& clock_;
  FastpathOptions options_;
  host::Supervisor supervisor_;
  FastpathConnection connection_;
  std::unique_ptr<ergw::Timer> ready_timer_;
  std::unique_ptr<ergw::Timer> status_timer_;
  std::function<void()> on_ready_;
  State state_ = State::starting;
  bool ready_ = false;
  bool supervised_ = false;  // we launched it (else adopted, or none yet)
  bool connecting_ = false;
  std::optional<uint64_t> instance_;
  std::set<FastpathRoute> routes_;      // wanted
  std::set<FastpathRoute> installed_;   // confirmed by the current instance
  std::string last_exit_;
  std::string last_error_;
  std::optional<std::chrono::milliseconds> restart_in_;
  unsigned restarts_ = 0;
  pid_t pid_ = 0;
  nlohmann::json last_status_;
  std::optional<ergw::Clock::TimePoint> last_status_at_;
  std::optional<ergw::Clock::TimePoint> ready_at_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::gateway
