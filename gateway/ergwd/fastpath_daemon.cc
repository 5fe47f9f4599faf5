#include "gateway/ergwd/fastpath_daemon.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>

#include <boost/asio/post.hpp>

#include "common/time_format.h"
#include "gateway/ergwd/log.h"
#include "gateway/ergwd/route_selection.h"

namespace ergw::gateway {

namespace {

constexpr const char* kServiceName = "ergw-fastpath";

}  // namespace

std::set<FastpathRoute> plan_fastpath_routes(const std::vector<ConnectionPlan>& plans, const LearnedRoutes& learned,
                                             const std::set<std::string>& tunnels_up) {
  std::set<FastpathRoute> routes;
  std::set<IpPrefix> configured;
  for (const auto& [prefix, carriers] : select_routes(plans, tunnels_up)) {
    for (const size_t i : carriers) {
      if (plans[i].if_id == 0) continue;
      routes.insert({prefix, plans[i].if_id});
      configured.insert(prefix);
    }
  }
  // Every session that has a prefix selected carries it: BIRD's `merge paths`
  // selects the equal routes of both sessions of an active-active gateway.
  for (const auto& plan : plans) {
    const auto found = learned.find(plan.name);
    if (plan.if_id == 0 || found == learned.end()) continue;
    for (const auto& prefix : found->second) {
      if (!configured.count(prefix)) routes.insert({prefix, plan.if_id});
    }
  }
  return routes;
}

FastpathDaemon::FastpathDaemon(boost::asio::any_io_executor executor, ergw::Clock& clock, host::Launcher& launcher,
                               FastpathOptions options)
    : executor_(executor),
      clock_(clock),
      options_(std::move(options)),
      supervisor_(executor, clock, launcher),
      connection_(executor, clock, options_.socket, options_.call_timeout),
      ready_timer_(clock.make_timer()),
      status_timer_(clock.make_timer()) {
  supervisor_.on_event([this](const host::ServiceEvent& event) { supervisor_event(event); });
  connection_.on_lost([this](const std::string& why) { lost(why); });
}

FastpathDaemon::~FastpathDaemon() {
  *alive_ = false;
  // The fast path carries the tunnels: it outlives ergwd, and the next ergwd
  // adopts it.
  supervisor_.detach_all();
}

std::string FastpathDaemon::charon_settings() const {
  return "# ergwd: the fast path carries ESP (dataPlane fastpath). ergw-ipsec must load before\n"
         "# kernel-netlink (which stays for addresses and routes); kernel-libipsec never with it.\n"
         "charon {\n"
         "    plugins {\n"
         "        ergw-ipsec {\n"
         "            load = 10\n"
         "            socket = " + options_.socket + "\n"
         "        }\n"
         "        kernel-libipsec {\n"
         "            load = no\n"
         "        }\n"
         "    }\n"
         "}\n";
}

void FastpathDaemon::start() {
  // A fast path that answers already (ergwd restarted) is adopted: restarting
  // it would interrupt every tunnel for the plugin's replay.
  connecting_ = true;
  connection_.connect([this](Status s) {
    connecting_ = false;
    if (s) {
      log_line(LogLevel::info, "ergw-fastpath answers on " + options_.socket + ": adopting it");
      hello();
    } else {
      launch();
    }
  });
}

void FastpathDaemon::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  log_line(LogLevel::info, "stopping ergw-fastpath: the data plane is no longer the fast path");
  *alive_ = false;  // no more polls, readiness or routes
  ready_ = false;
  if (supervised_) {
    supervisor_.stop(kServiceName, grace, std::move(done));
    return;
  }
  if (pid_ > 0) ::kill(pid_, SIGTERM);
  boost::asio::post(executor_, std::move(done));
}

void FastpathDaemon::launch() {
  host::ServiceSpec spec;
  spec.name = kServiceName;
  spec.launch.argv = {options_.installation.binary, "--control", options_.socket, "--sequence-file",
                      options_.sequence_file, "--tun", options_.tun};
  spec.launch.argv.insert(spec.launch.argv.end(), options_.extra_arguments.begin(), options_.extra_arguments.end());
  if (!options_.log_file.empty()) spec.launch.output = options_.log_file;
  spec.backoff = options_.backoff;
  state_ = State::starting;
  for (const auto& file : {options_.socket, options_.sequence_file, options_.log_file}) {
    std::error_code ec;
    if (!file.empty()) std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
  }
  auto started = supervisor_.start(std::move(spec));
  if (!started) {
    state_ = State::start_failed;
    last_error_ = "cannot start ergw-fastpath: " + started.error();
    log_line(LogLevel::error, last_error_ + "; trying again in " + format_millis(options_.backoff.max));
    ready_timer_->start(options_.backoff.max, [this] { launch(); });
    return;
  }
  supervised_ = true;
  pid_ = started.value();
  log_line(LogLevel::info, "started ergw-fastpath (pid " + std::to_string(pid_) + ", tun " + options_.tun +
                               ", control " + options_.socket + ")");
  poll_ready();
}

void FastpathDaemon::poll_ready() {
  ready_timer_->start(options_.ready_poll, [this] {
    if (ready_ || connecting_) return;
    connecting_ = true;
    connection_.connect([this](Status s) {
      connecting_ = false;
      if (s) return hello();
      // Not (yet) listening. Our own child: the supervisor restarts it when it
      // exits, so keep looking. An adopted one is gone: start our own.
      if (!supervised_) {
        log_line(LogLevel::warning, "the adopted ergw-fastpath is gone (" + s.error() + "); starting one");
        return launch();
      }
      if (state_ == State::starting || state_ == State::not_answering) poll_ready();
    });
  });
}

void FastpathDaemon::hello() {
  connection_.request(
      ERGW_IPSEC_MSG_HELLO, [](xfrm::control::MessageWriter& w) { w.text(ERGW_IPSEC_ATTR_NAME, "ergwd"); },
      [this](Result<FastpathReply> reply) {
        if (!reply) {
          last_error_ = reply.error();
          state_ = State::not_answering;
          connection_.close();
          poll_ready();
          return;
        }
        auto instance = reply.value().reader().u64(ERGW_IPSEC_ATTR_INSTANCE);
        became_ready(instance.ok() && instance.value() ? *instance.value() : 0);
      });
}

void FastpathDaemon::became_ready(uint64_t instance) {
  const bool new_instance = !instance_ || *instance_ != instance;
  instance_ = instance;
  ready_ = true;
  state_ = State::ready;
  last_error_.clear();
  restart_in_.reset();
  ready_at_ = clock_.now();
  if (new_instance) {
    log_line(LogLevel::info, "ergw-fastpath ready (instance " + std::to_string(instance) + ")");
    installed_.clear();
    push_routes(routes_, {});
    if (on_ready_) on_ready_();
  }
  poll_status();
}

void FastpathDaemon::lost(const std::string& why) {
  if (!ready_ && state_ != State::ready) return;
  ready_ = false;
  state_ = State::not_answering;
  last_error_ = why;
  log_line(LogLevel::warning, "ergw-fastpath: " + why);
  poll_ready();
}

void FastpathDaemon::supervisor_event(const host::ServiceEvent& event) {
  if (event.name != kServiceName) return;
  switch (event.kind) {
    case host::ServiceEvent::Kind::started:
      if (event.pid != pid_) {
        ++restarts_;
        log_line(LogLevel::info, "ergw-fastpath running again (pid " + std::to_string(event.pid) + ")");
      }
      pid_ = event.pid;
      state_ = State::starting;
      restart_in_.reset();
      poll_ready();
      break;
    case host::ServiceEvent::Kind::exited:
      ready_ = false;
      state_ = State::exited;
      last_exit_ = event.exit ? event.exit->describe() : "exited";
      restart_in_ = event.restart_in;
      connection_.close();
      log_line(LogLevel::warning, "ergw-fastpath (pid " + std::to_string(event.pid) + ") " + last_exit_ +
                                      (event.restart_in ? "; restarting in " + format_millis(*event.restart_in) : ""));
      break;
    case host::ServiceEvent::Kind::start_failed:
      state_ = State::start_failed;
      last_error_ = "cannot restart ergw-fastpath: " + event.error;
      restart_in_ = event.restart_in;
      log_line(LogLevel::error, last_error_);
      break;
  }
}

void FastpathDaemon::set_routes(std::set<FastpathRoute> routes) {
  routes_ = std::move(routes);
  if (!ready_) return;
  std::set<FastpathRoute> add, remove;
  for (const auto& r : routes_) {
    if (!installed_.count(r)) add.insert(r);
  }
  for (const auto& r : installed_) {
    if (!routes_.count(r)) remove.insert(r);
  }
  push_routes(add, remove);
}

void FastpathDaemon::push_routes(const std::set<FastpathRoute>& add, const std::set<FastpathRoute>& remove) {
  const auto send = [this](uint16_t type, const FastpathRoute& route) {
    connection_.request(
        type,
        [route](xfrm::control::MessageWriter& w) {
          w.selector(ERGW_IPSEC_ATTR_PREFIX, {0, route.prefix, 0, 0}).u32(ERGW_IPSEC_ATTR_IF_ID, route.if_id);
        },
        [this, type, route](Result<FastpathReply> reply) {
          const std::string what = route.prefix.to_string() + " -> if_id " + std::to_string(route.if_id);
          if (!reply) {
            last_error_ = "fast path route " + what + ": " + reply.error();
            log_line(LogLevel::warning, last_error_);
            return;
          }
          if (type == ERGW_IPSEC_MSG_ADD_ROUTE) {
            installed_.insert(route);
            log_line(LogLevel::info, "fast path route " + what);
          } else {
            installed_.erase(route);
            log_line(LogLevel::info, "fast path route removed: " + what);
          }
        });
  };
  // Additions first: a prefix moving from one tunnel to another always has
  // one of them in the fast path's table.
  for (const auto& r : add) send(ERGW_IPSEC_MSG_ADD_ROUTE, r);
  for (const auto& r : remove) send(ERGW_IPSEC_MSG_DEL_ROUTE, r);
}

void FastpathDaemon::poll_status() {
  if (status_timer_->armed()) return;
  status_timer_->start(options_.status_interval, [this] {
    if (!ready_) return;
    connection_.request(ERGW_IPSEC_MSG_STATUS, {}, [this](Result<FastpathReply> reply) {
      if (!reply) return;  // the connection's loss is reported through on_lost
      auto text = reply.value().reader().text(ERGW_IPSEC_ATTR_STATUS_JSON);
      if (text.ok() && text.value()) {
        auto parsed = nlohmann::json::parse(*text.value(), nullptr, false);
        if (!parsed.is_discarded()) {
          last_status_ = std::move(parsed);
          last_status_at_ = clock_.now();
        }
      }
      poll_status();
    });
  });
}

std::string FastpathDaemon::state_name() const {
  switch (state_) {
    case State::starting: return "starting";
    case State::ready: return "ready";
    case State::not_answering: return "not answering";
    case State::exited: return "exited";
    case State::start_failed: return "cannot start";
  }
  return "?";
}

nlohmann::json FastpathDaemon::report() const {
  nlohmann::json r;
  r["state"] = state_name();
  r["ready"] = ready_;
  r["device"] = options_.tun;
  r["socket"] = options_.socket;
  r["supervised"] = supervised_;  // false: adopted from an earlier ergwd
  if (pid_ != 0) r["pid"] = pid_;
  r["restarts"] = restarts_;
  if (instance_) r["instance"] = *instance_;
  if (!last_exit_.empty()) r["last_exit"] = last_exit_;
  if (restart_in_) r["restart_in_ms"] = restart_in_->count();
  if (!last_error_.empty()) r["last_error"] = last_error_;
  if (ready_at_) {
    r["ready_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - *ready_at_).count();
  }
  if (last_status_at_) {
    r["data_age_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - *last_status_at_).count();
    r["status"] = last_status_;
  }
  return r;
}

}  // namespace ergw::gateway
