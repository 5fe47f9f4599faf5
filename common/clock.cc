#include "common/clock.h"

#include <boost/asio/steady_timer.hpp>

namespace ergw {
namespace {

class SteadyTimer final : public Timer {
 public:
  explicit SteadyTimer(boost::asio::any_io_executor executor)
      : state_(std::make_shared<State>(std::move(executor))) {}
  ~SteadyTimer() override { cancel(); }

  void start(std::chrono::milliseconds delay, std::function<void()> handler) override {
    // The generation tells a wait that completed (and was queued) just before
    // a cancel or a re-arm from the current one.
    const uint64_t generation = ++state_->generation;
    state_->armed = true;
    state_->timer.expires_after(delay);
    state_->timer.async_wait([weak = std::weak_ptr<State>(state_), generation,
                              handler = std::move(handler)](const boost::system::error_code& ec) {
      std::shared_ptr<State> state = weak.lock();
      if (ec || !state || state->generation != generation) return;
      state->armed = false;
      handler();
    });
  }

  void cancel() override {
    ++state_->generation;
    state_->armed = false;
    state_->timer.cancel();
  }

  bool armed() const override { return state_->armed; }

 private:
  struct State {
    explicit State(boost::asio::any_io_executor executor) : timer(std::move(executor)) {}
    boost::asio::steady_timer timer;
    uint64_t generation = 0;
    bool armed = false;
  };
  std::shared_ptr<State> state_;
};

class SteadyClock final : public Clock {
 public:
  explicit SteadyClock(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  std::unique_ptr<Timer> make_timer() override { return std::make_unique<SteadyTimer>(executor_); }

 private:
  boost::asio::any_io_executor executor_;
};

}  // namespace

std::unique_ptr<Clock> make_steady_clock(boost::asio::any_io_executor executor) {
  return std::make_unique<SteadyClock>(std::move(executor));
}

}  // namespace ergw
