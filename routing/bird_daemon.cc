#include "routing/bird_daemon.h"

#include <signal.h>

#include "common/time_format.h"
#include "routing/bird_commands.h"

namespace ergw::routing {
namespace {

constexpr const char* kService = "bird";
constexpr auto kStalePollInterval = std::chrono::milliseconds(100);

BirdClientOptions client_options(const BirdDaemonOptions& options) {
  BirdClientOptions o = options.client;
  o.socket_path = options.socket_path;
  return o;
}

}  // namespace

const char* to_string(BirdDaemon::State state) {
  switch (state) {
    case BirdDaemon::State::stopped: return "stopped";
    case BirdDaemon::State::clearing_stale: return "clearing a stale BIRD";
    case BirdDaemon::State::starting: return "starting";
    case BirdDaemon::State::running: return "running";
    case BirdDaemon::State::restarting: return "restarting";
    case BirdDaemon::State::failed: return "failed";
  }
  return "unknown";
}

BirdDaemon::BirdDaemon(boost::asio::any_io_executor executor, Clock& clock, host::Launcher& launcher,
                       BirdDaemonOptions options)
    : clock_(clock),
      options_(std::move(options)),
      supervisor_(executor, clock, launcher),
      client_(executor, clock, client_options(options_)),
      timer_(clock.make_timer()) {
  supervisor_.on_event([this](const host::ServiceEvent& event) { supervisor_event(event); });
}

BirdDaemon::~BirdDaemon() = default;

void BirdDaemon::on_running(RunningHandler handler) { on_running_ = std::move(handler); }
void BirdDaemon::on_down(DownHandler handler) { on_down_ = std::move(handler); }
void BirdDaemon::on_diagnostic(DiagnosticHandler handler) { on_diagnostic_ = std::move(handler); }

unsigned BirdDaemon::restarts() const { return supervisor_.restarts(kService); }

void BirdDaemon::diagnostic(const std::string& text) {
  if (on_diagnostic_) on_diagnostic_(text);
}

std::string BirdDaemon::output_hint() const {
  return options_.output_path.empty() ? std::string() : "; see " + options_.output_path;
}

host::LaunchSpec BirdDaemon::launch_spec() const {
  host::LaunchSpec spec;
  if (!options_.network_namespace.empty()) spec.argv = {"ip", "netns", "exec", options_.network_namespace};
  spec.argv.insert(spec.argv.end(), {options_.bird_binary, "-f", "-c", options_.config_path, "-s",
                                     options_.socket_path, "-P", options_.pid_path});
  spec.argv.insert(spec.argv.end(), options_.extra_arguments.begin(), options_.extra_arguments.end());
  if (!options_.output_path.empty()) spec.output = options_.output_path;
  return spec;
}

void BirdDaemon::start() {
  if (state_ != State::stopped && state_ != State::failed) return;
  if (options_.config_path.empty() || options_.socket_path.empty() || options_.pid_path.empty()) {
    state_ = State::failed;
    error_ = "BIRD needs a config path, a control socket path and a pid file path";
    went_down(error_);
    return;
  }
  probe_stale();
}

// A BIRD that answers before we launched ours is somebody else's.
void BirdDaemon::probe_stale() {
  state_ = State::clearing_stale;
  const uint64_t run = ++run_;
  client_.command(kShowStatusCommand, [this, run](Result<Reply> reply) {
    if (run != run_ || state_ != State::clearing_stale) return;
    if (!reply) {
      launch();
      return;
    }
    client_.reset("not our BIRD");
    if (options_.stale == StaleBird::refuse) {
      state_ = State::failed;
      error_ = "another BIRD already answers on " + options_.socket_path;
      went_down(error_);
      return;
    }
    shut_down_stale();
  });
}

void BirdDaemon::shut_down_stale() {
  diagnostic("a BIRD that is not ours answers on " + options_.socket_path + "; asking it to shut down");
  const uint64_t run = run_;
  client_.command("down", [this, run](Result<Reply>) {
    if (run != run_ || state_ != State::clearing_stale) return;
    wait_for_stale_to_leave(clock_.now() + options_.stale_timeout);
  });
}

void BirdDaemon::wait_for_stale_to_leave(Clock::TimePoint deadline) {
  const uint64_t run = run_;
  timer_->start(kStalePollInterval, [this, run, deadline] {
    client_.command(kShowStatusCommand, [this, run, deadline](Result<Reply> reply) {
      if (run != run_ || state_ != State::clearing_stale) return;
      if (!reply) {
        launch();
        return;
      }
      client_.reset("waiting for the stale BIRD to leave");
      if (clock_.now() >= deadline) {
        diagnostic("the stale BIRD on " + options_.socket_path + " did not leave within " +
                   format_millis(options_.stale_timeout) + "; starting ours anyway");
        launch();
        return;
      }
      wait_for_stale_to_leave(deadline);
    });
  });
}

void BirdDaemon::launch() {
  host::ServiceSpec spec;
  spec.name = kService;
  spec.launch = launch_spec();
  spec.restart = host::Restart::always;
  spec.backoff = options_.restart_backoff;
  auto started = supervisor_.start(std::move(spec));
  if (!started) {
    state_ = State::failed;
    error_ = "cannot start BIRD: " + started.error() + output_hint();
    went_down(error_);
    return;
  }
  // The supervisor's `started` event moves on to polling the socket.
  state_ = State::starting;
  pid_ = *started;
}

void BirdDaemon::supervisor_event(const host::ServiceEvent& event) {
  if (state_ == State::stopped) return;
  switch (event.kind) {
    case host::ServiceEvent::Kind::started:
      pid_ = event.pid;
      state_ = State::starting;
      launched_at_ = clock_.now();
      poll_socket(++run_);
      return;
    case host::ServiceEvent::Kind::exited: {
      const bool before_greeting = state_ == State::starting;
      timer_->cancel();
      ++run_;
      client_.reset("BIRD exited");
      std::string why = "BIRD (pid " + std::to_string(event.pid) + ") " + event.exit->describe() +
                        (before_greeting ? " before it greeted on " + options_.socket_path : "") + output_hint();
      if (event.restart_in) why += "; restarting it in " + format_millis(*event.restart_in);
      pid_ = 0;
      state_ = State::restarting;
      went_down(std::move(why));
      return;
    }
    case host::ServiceEvent::Kind::start_failed:
      pid_ = 0;
      state_ = State::restarting;
      went_down("cannot restart BIRD: " + event.error + output_hint() + "; trying again in " +
                format_millis(event.restart_in.value_or(std::chrono::milliseconds(0))));
      return;
  }
}

void BirdDaemon::poll_socket(uint64_t run) {
  client_.command(kShowStatusCommand, [this, run](Result<Reply> reply) {
    if (run != run_ || state_ != State::starting) return;
    if (reply) {
      state_ = State::running;
      error_.clear();
      if (on_running_) on_running_(pid_);
      return;
    }
    if (clock_.now() - launched_at_ >= options_.start_timeout) {
      error_ = "BIRD (pid " + std::to_string(pid_) + ") did not greet on " + options_.socket_path + " within " +
               format_millis(options_.start_timeout) + " (" + reply.error() + "); killing it" + output_hint();
      diagnostic(error_);
      (void)supervisor_.signal(kService, SIGKILL);  // its exit restarts it
      return;
    }
    timer_->start(options_.poll_interval, [this, run] { poll_socket(run); });
  });
}

void BirdDaemon::went_down(std::string why) {
  error_ = std::move(why);
  if (on_down_) on_down_(error_);
}

void BirdDaemon::stop(std::function<void()> done) {
  state_ = State::stopped;
  ++run_;
  timer_->cancel();
  client_.reset("BIRD is being stopped");
  pid_ = 0;
  error_.clear();
  // `done` runs on the executor once BIRD is gone (at once if it never ran).
  supervisor_.stop(kService, options_.stop_grace, std::move(done));
}

}  // namespace ergw::routing
