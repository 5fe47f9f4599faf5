#include "host/supervisor.h"

#include <signal.h>

#include <algorithm>

#include <boost/asio/post.hpp>

namespace ergw::host {

namespace asio = boost::asio;

struct Supervisor::Service {
  ServiceSpec spec;
  std::unique_ptr<ChildProcess> child;
  unsigned restarts = 0;
  std::chrono::milliseconds delay{};
  Clock::TimePoint started{};
  std::unique_ptr<Timer> restart_timer;
  std::unique_ptr<Timer> kill_timer;  // while stopping: SIGKILL after the grace period
  std::vector<Done> done;             // while stopping: who waits for the exit
};

Supervisor::Supervisor(asio::any_io_executor executor, Clock& clock, Launcher& launcher)
    : executor_(std::move(executor)), clock_(clock), launcher_(launcher) {}

Supervisor::~Supervisor() {
  *alive_ = false;
  for (auto& [name, service] : services_) {
    if (service->child) service->child->terminate_and_wait(std::chrono::seconds(3));
  }
  for (auto& service : stopping_) {
    if (service->child) service->child->terminate_and_wait(std::chrono::seconds(3));
  }
}

void Supervisor::on_event(EventHandler handler) { on_event_ = std::move(handler); }

void Supervisor::emit(ServiceEvent event) {
  asio::post(executor_, [this, alive = std::weak_ptr<bool>(alive_), event = std::move(event)] {
    auto token = alive.lock();
    if (!token || !*token || !on_event_) return;
    on_event_(event);
  });
}

void Supervisor::watch(Service& service) {
  const pid_t pid = service.child->pid();
  service.child->async_wait_exit(
      [this, alive = std::weak_ptr<bool>(alive_), name = service.spec.name, pid](ExitStatus status) {
        auto token = alive.lock();
        if (!token || !*token) return;
        exited(name, pid, status);
      });
}

Result<pid_t> Supervisor::start(ServiceSpec spec) {
  if (spec.name.empty()) return Error{"a supervised daemon needs a name"};
  if (services_.count(spec.name) != 0) return Error{"daemon '" + spec.name + "' is already supervised"};
  auto launched = launcher_.launch(spec.launch);
  if (!launched) return Error{spec.name + ": " + launched.error()};
  auto service = std::make_unique<Service>();
  service->spec = std::move(spec);
  service->child = std::move(launched.value());
  service->delay = service->spec.backoff.initial;
  service->started = clock_.now();
  service->restart_timer = clock_.make_timer();
  const pid_t pid = service->child->pid();
  watch(*service);
  const std::string name = service->spec.name;
  services_[name] = std::move(service);
  emit({ServiceEvent::Kind::started, name, pid, std::nullopt, "", std::nullopt});
  return pid;
}

std::chrono::milliseconds Supervisor::next_delay(Service& service) {
  const Backoff& b = service.spec.backoff;
  if (clock_.now() - service.started >= b.reset_after) service.delay = b.initial;
  const auto delay = service.delay;
  service.delay = std::min(service.delay * 2, b.max);
  return delay;
}

void Supervisor::schedule_restart(Service& service, std::chrono::milliseconds delay) {
  service.restart_timer->start(delay, [this, name = service.spec.name] { relaunch(name); });
}

void Supervisor::exited(const std::string& name, pid_t pid, ExitStatus status) {
  for (auto it = stopping_.begin(); it != stopping_.end(); ++it) {
    if ((*it)->child && (*it)->child->pid() == pid) {
      std::unique_ptr<Service> service = std::move(*it);
      stopping_.erase(it);
      finish_stop(std::move(service));
      return;
    }
  }
  const auto found = services_.find(name);
  if (found == services_.end() || !found->second->child || found->second->child->pid() != pid) return;
  Service& service = *found->second;
  service.child.reset();
  ServiceEvent event{ServiceEvent::Kind::exited, name, pid, status, "", std::nullopt};
  if (service.spec.restart == Restart::always) {
    event.restart_in = next_delay(service);
    schedule_restart(service, *event.restart_in);
  }
  emit(std::move(event));
}

void Supervisor::relaunch(const std::string& name) {
  const auto found = services_.find(name);
  if (found == services_.end() || found->second->child) return;
  Service& service = *found->second;
  if (service.spec.restart != Restart::always) return;
  auto launched = launcher_.launch(service.spec.launch);
  if (!launched) {
    const auto delay = next_delay(service);
    schedule_restart(service, delay);
    emit({ServiceEvent::Kind::start_failed, name, 0, std::nullopt, launched.error(), delay});
    return;
  }
  service.child = std::move(launched.value());
  service.started = clock_.now();
  ++service.restarts;
  watch(service);
  emit({ServiceEvent::Kind::started, name, service.child->pid(), std::nullopt, "", std::nullopt});
}

void Supervisor::stop(const std::string& name, std::chrono::milliseconds grace, Done done) {
  const auto found = services_.find(name);
  std::unique_ptr<Service> service;
  if (found != services_.end()) {
    service = std::move(found->second);
    services_.erase(found);
  }
  if (!service || !service->child) {
    if (done) asio::post(executor_, [alive = std::weak_ptr<bool>(alive_), done = std::move(done)] {
        if (auto token = alive.lock(); token && *token) done();
      });
    return;
  }
  service->restart_timer->cancel();
  if (done) service->done.push_back(std::move(done));
  service->child->signal(SIGTERM);
  service->kill_timer = clock_.make_timer();
  ChildProcess* child = service->child.get();
  service->kill_timer->start(grace, [child] { child->signal(SIGKILL); });
  stopping_.push_back(std::move(service));
}

void Supervisor::finish_stop(std::unique_ptr<Service> service) {
  service->kill_timer.reset();
  for (auto& done : service->done) {
    asio::post(executor_, [alive = std::weak_ptr<bool>(alive_), done = std::move(done)] {
      if (auto token = alive.lock(); token && *token) done();
    });
  }
}

Result<pid_t> Supervisor::signal(const std::string& name, int signal) {
  const auto found = services_.find(name);
  if (found == services_.end() || !found->second->child) return Error{"daemon '" + name + "' is not running"};
  found->second->child->signal(signal);
  return found->second->child->pid();
}

void Supervisor::set_restart(const std::string& name, Restart restart) {
  const auto found = services_.find(name);
  if (found == services_.end()) return;
  found->second->spec.restart = restart;
  if (restart == Restart::never) found->second->restart_timer->cancel();
}

void Supervisor::detach_all() {
  for (auto& [name, service] : services_) {
    service->restart_timer->cancel();
    if (service->child) service->child->release();
  }
  for (auto& service : stopping_) {
    if (service->child) service->child->release();
  }
  services_.clear();
  stopping_.clear();
}

bool Supervisor::contains(const std::string& name) const { return services_.count(name) != 0; }

std::optional<pid_t> Supervisor::pid(const std::string& name) const {
  const auto found = services_.find(name);
  if (found == services_.end() || !found->second->child) return std::nullopt;
  return found->second->child->pid();
}

unsigned Supervisor::restarts(const std::string& name) const {
  const auto found = services_.find(name);
  return found == services_.end() ? 0 : found->second->restarts;
}

std::vector<std::string> Supervisor::names() const {
  std::vector<std::string> out;
  for (const auto& [name, service] : services_) out.push_back(name);
  return out;
}

}  // namespace ergw::host
