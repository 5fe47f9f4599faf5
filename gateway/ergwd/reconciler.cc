#include "gateway/ergwd/reconciler.h"

#include <algorithm>

#include "gateway/ergwd/failure_reason.h"
#include "gateway/ergwd/log.h"
#include "vici/commands.h"
#include "xfrm/netlink/xfrm_interface.h"

namespace ergw::gateway {

Reconciler::Reconciler(boost::asio::io_context& io, vici::Client& client, DataPlaneChoice data_plane)
    : client_(client), data_plane_(std::move(data_plane)), pass_timer_(io), periodic_timer_(io) {}

void Reconciler::set_desired(std::vector<ConnectionPlan> plans) {
  plans_ = std::move(plans);
  request_pass();
}

const ConnectionPlan* Reconciler::find_plan(const std::string& name) const {
  for (const auto& p : plans_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void Reconciler::charon_connected() {
  charon_up_ = true;
  // A (re)started charon holds nothing of ours.
  loaded_.clear();
  log_line(LogLevel::info, "connected to charon; applying the configuration");
  request_pass();
}

void Reconciler::charon_disconnected(const std::string& reason) {
  if (charon_up_) log_line(LogLevel::warning, "lost charon: " + reason + "; will re-apply when it is back");
  charon_up_ = false;
  loaded_.clear();
}

void Reconciler::record_error(const std::string& connection, const std::string& message) {
  auto reason = classify_charon_log(message);
  if (!reason) return;
  // Map a child or instance name back to its plan.
  std::string name = connection;
  if (!find_plan(name)) {
    for (const auto& p : plans_) {
      if (std::find(p.children.begin(), p.children.end(), connection) != p.children.end()) name = p.name;
    }
  }
  auto& h = health_[name];
  // "IKE SA failed" says less than the reason before it: keep the specific one.
  const bool generic = reason->reason == "IKE SA failed" || reason->reason == "CHILD SA failed";
  const bool recent = std::chrono::system_clock::now() - h.last_error_at < std::chrono::seconds(5);
  if (generic && recent && !h.last_error.empty()) return;
  h.last_error = reason->reason;
  h.last_error_hint = reason->hint;
  h.last_error_detail = message;
  h.last_error_at = std::chrono::system_clock::now();
  log_line(LogLevel::warning, name + ": " + reason->reason + " (" + message + ")");
}

void Reconciler::charon_event(const std::string& name, const vici::Message& message) {
  if (name == "log") {
    const auto ike = std::string(message.string_or("ikesa-name", ""));
    if (!ike.empty()) record_error(ike, std::string(message.string_or("msg", "")));
    return;
  }
  if (name == "ike-updown" || name == "child-updown") {
    auto event = vici::parse_updown_event(message);
    if (!event) return;
    {
      const auto& sa = event->ike_sa;
      auto& h = health_[sa.name];
      h.last_change = std::string(name == "ike-updown" ? "IKE " : "CHILD ") + (event->up ? "up" : "down");
      h.last_change_at = std::chrono::system_clock::now();
      log_line(LogLevel::info, sa.name + ": " + h.last_change);
      if (event->up && name == "child-updown") {
        h.last_error.clear();
        h.last_error_hint.clear();
        h.last_error_detail.clear();
      }
    }
    // A tunnel that went down is re-dialled (if ergw dials it) on the next pass;
    // charon's own dpd/close actions usually get there first.
    if (!event->up) request_pass(std::chrono::seconds(2));
  }
}

void Reconciler::request_pass(std::chrono::milliseconds delay) {
  if (running_) {
    again_ = true;
    return;
  }
  // Never postpone a pass already due sooner.
  const auto due = std::chrono::steady_clock::now() + delay;
  if (pass_pending_ && pass_timer_.expiry() <= due) return;
  pass_pending_ = true;
  pass_timer_.expires_at(due);
  pass_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled by a sooner request, which owns the flag now
    pass_pending_ = false;
    run_pass();
  });
}

void Reconciler::start_periodic(std::chrono::seconds interval) {
  periodic_interval_ = interval;
  periodic_timer_.expires_after(interval);
  periodic_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    request_pass();
    start_periodic(periodic_interval_);
  });
}

void Reconciler::run_steps(std::shared_ptr<std::vector<Step>> steps, size_t index) {
  if (index >= steps->size()) {
    finish_pass();
    return;
  }
  (*steps)[index]([this, steps, index] { run_steps(steps, index + 1); });
}

void Reconciler::finish_pass() {
  running_ = false;
  ++passes_;
  if (again_) {
    again_ = false;
    request_pass();
  }
}

void Reconciler::run_pass() {
  if (running_) {
    again_ = true;
    return;
  }
  if (!charon_up_) {
    sync_routes();  // routes need no charon; they wait for their device
    return;
  }
  running_ = true;
  auto steps = std::make_shared<std::vector<Step>>();
  auto charon_names = std::make_shared<std::vector<std::string>>();

  steps->push_back([this, charon_names](std::function<void()> next) {
    vici::get_conns(client_, [charon_names, next](Result<std::vector<std::string>> names) {
      if (names) *charon_names = std::move(names.value());
      else log_line(LogLevel::warning, "get-conns failed: " + names.error());
      next();
    });
  });

  // 1. Unload what is no longer configured.
  steps->push_back([this, charon_names](std::function<void()> next) {
    auto stale = std::make_shared<std::vector<std::string>>();
    for (const auto& name : *charon_names) {
      if (!find_plan(name)) stale->push_back(name);
    }
    if (stale->empty()) return next();
    auto remaining = std::make_shared<size_t>(stale->size());
    for (const auto& name : *stale) {
      log_line(LogLevel::info, name + ": no longer configured; unloading");
      vici::TerminateRequest t;
      t.ike = name;
      t.force = true;
      t.timeout_ms = -1;
      vici::terminate(client_, t, [](Result<vici::TerminateResult>) {});
      vici::unload_shared(client_, "ike-" + name, [](Status) {});
      vici::unload_conn(client_, name, [this, name, remaining, next](Status s) {
        if (!s) log_line(LogLevel::warning, name + ": unload failed: " + s.error());
        loaded_.erase(name);
        health_.erase(name);
        if (--*remaining == 0) next();
      });
    }
  });

  // 2. Load what is new or changed.
  steps->push_back([this, charon_names](std::function<void()> next) {
    std::vector<const ConnectionPlan*> to_load;
    for (const auto& plan : plans_) {
      const bool in_charon =
          std::find(charon_names->begin(), charon_names->end(), plan.name) != charon_names->end();
      auto it = loaded_.find(plan.name);
      if (!in_charon || it == loaded_.end() || it->second != plan.fingerprint) to_load.push_back(&plan);
    }
    if (to_load.empty()) return next();
    auto remaining = std::make_shared<size_t>(to_load.size());
    for (const auto* plan : to_load) {
      const bool changed = loaded_.count(plan->name) != 0;
      vici::SharedKeyInfo key;
      key.id = plan->secret.name;
      key.owners = plan->secret.owners;
      const std::string name = plan->name;
      const std::string fingerprint = plan->fingerprint;
      vici::load_shared(client_, key, plan->secret.secret.reveal(), [name](Status s) {
        if (!s) log_line(LogLevel::error, name + ": loading its PSK failed: " + s.error());
      });
      vici::load_conn(client_, name, plan->conn,
                      [this, name, fingerprint, changed, remaining, next](Status s) {
                        if (s) {
                          loaded_[name] = fingerprint;
                          log_line(LogLevel::info, name + (changed ? ": configuration changed; reloaded"
                                                                   : ": loaded into charon"));
                          if (changed) {
                            // Azure too restarts IKE when a connection's policy changes.
                            vici::TerminateRequest t;
                            t.ike = name;
                            t.timeout_ms = -1;
                            vici::terminate(client_, t, [](Result<vici::TerminateResult>) {});
                          }
                        } else {
                          health_[name].last_error = "configuration refused by charon";
                          health_[name].last_error_detail = s.error();
                          health_[name].last_error_at = std::chrono::system_clock::now();
                          log_line(LogLevel::error, name + ": charon refused the connection: " + s.error());
                        }
                        if (--*remaining == 0) next();
                      });
    }
  });

  // 3. Dial what ergw dials and is down.
  steps->push_back([this](std::function<void()> next) {
    vici::list_sas(client_, {}, [this, next](Result<std::vector<vici::IkeSaInfo>> sas) {
      if (!sas) {
        log_line(LogLevel::warning, "list-sas failed: " + sas.error());
        return next();
      }
      initiate_missing(sas.value(), next);
    });
  });

  // 4. Routes.
  steps->push_back([this](std::function<void()> next) {
    sync_routes();
    next();
  });

  run_steps(steps, 0);
}

void Reconciler::initiate_missing(const std::vector<vici::IkeSaInfo>& sas, std::function<void()> next) {
  for (const auto& plan : plans_) {
    if (!plan.dial || loaded_.count(plan.name) == 0 || plan.children.empty()) continue;
    const vici::IkeSaInfo* ike = nullptr;
    for (const auto& sa : sas) {
      if (sa.name == plan.name && (ike == nullptr || sa.state == "ESTABLISHED")) ike = &sa;
    }
    // An IKE SA in any state means charon is on it (it retries by itself,
    // keyingtries = 0); initiating again would only stack half-open SAs.
    std::vector<std::string> missing;
    if (ike == nullptr) {
      missing.push_back(plan.children.front());
    } else if (ike->state == "ESTABLISHED") {
      for (const auto& child : plan.children) {
        bool up = false;
        for (const auto& c : ike->child_sas) up = up || (c.name == child && c.state != "DELETING");
        if (!up) missing.push_back(child);
      }
    }
    for (const auto& child : missing) {
      log_line(LogLevel::info, plan.name + ": initiating " + child);
      vici::InitiateRequest request;
      request.ike = plan.name;
      request.child = child;
      request.timeout_ms = -1;  // follow events, do not block the command connection
      const std::string name = plan.name;
      vici::initiate(client_, request, [this, name](Result<std::vector<vici::ControlLogLine>> r) {
        if (!r) record_error(name, r.error());
      });
    }
  }
  next();
}

void Reconciler::sync_routes() {
  std::set<std::pair<std::string, std::string>> wanted;
  for (const auto& plan : plans_) {
    // Policy-based in the kernel: the XFRM policies catch the traffic, no route needed.
    if (plan.if_id == 0 && data_plane_.kind == DataPlaneKind::kernel) continue;
    const auto device = tunnel_device(data_plane_.kind, plan.if_id);
    if (data_plane_.kind == DataPlaneKind::kernel && plan.if_id != 0 && xfrm::device_index(device) == 0) {
      auto s = xfrm::create_xfrm_interface({device, plan.if_id, "", 1400});
      if (!s) log_line(LogLevel::error, plan.name + ": " + s.error());
    }
    for (const auto& prefix : plan.routes) wanted.insert({prefix.to_string(), device});
  }
  for (const auto& [prefix, device] : wanted) {
    // Replace every pass: idempotent, and a TUN that charon re-created came
    // back without our routes.
    auto s = xfrm::replace_route({*IpPrefix::parse(prefix), device});
    if (s) {
      if (!routes_.count({prefix, device})) log_line(LogLevel::info, "route " + prefix + " dev " + device);
      routes_.insert({prefix, device});
    } else {
      routes_.erase({prefix, device});
      log_line(LogLevel::debug, s.error());
    }
  }
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (wanted.count(*it)) {
      ++it;
      continue;
    }
    (void)xfrm::delete_route({*IpPrefix::parse(it->first), it->second});
    log_line(LogLevel::info, "removed route " + it->first + " dev " + it->second);
    it = routes_.erase(it);
  }
}

void Reconciler::remove_routes() {
  for (const auto& [prefix, device] : routes_) (void)xfrm::delete_route({*IpPrefix::parse(prefix), device});
  routes_.clear();
}

}  // namespace ergw::gateway
