// FakeClock: a Clock (common/clock.h) that moves only when a test says so.
// advance() fires the due timers one by one in time order, and after each
// runs everything ready on the io_context (handlers, socket I/O), so timers
// armed by a handler are seen in the same advance. Tests of timeouts and
// backoff then run in microseconds and never depend on the machine's speed.
// Its time of day starts at kWallStart and moves with it.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "common/clock.h"

namespace ergw::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(boost::asio::io_context& io) : io_(io) {}

  // 2026-11-30T12:00:00Z: a fixed, recognisable time of day to start from.
  static constexpr WallTime kWallStart{std::chrono::seconds(1796040000)};

  TimePoint now() const override { return now_; }
  WallTime wall_now() const override {
    return kWallStart + std::chrono::duration_cast<WallTime::duration>(now_ - kStart);
  }

  std::unique_ptr<Timer> make_timer() override {
    auto entry = std::make_shared<Entry>();
    entries_.push_back(entry);
    return std::make_unique<FakeTimer>(*this, entry);
  }

  // Runs what is ready on the io_context until nothing more is.
  void settle() {
    for (int quiet = 0; quiet < 3;) {
      // An io_context that ran out of work stops until restarted.
      if (io_.stopped()) io_.restart();
      quiet = io_.poll() == 0 ? quiet + 1 : 0;
    }
  }

  void advance(std::chrono::milliseconds step) {
    const TimePoint target = now_ + step;
    settle();
    for (;;) {
      std::shared_ptr<Entry> next;
      for (const auto& weak : entries_) {
        auto entry = weak.lock();
        if (!entry || !entry->armed || entry->due > target) continue;
        if (!next || entry->due < next->due || (entry->due == next->due && entry->order < next->order)) {
          next = entry;
        }
      }
      if (!next) break;
      now_ = std::max(now_, next->due);
      next->armed = false;
      boost::asio::post(io_, [weak = std::weak_ptr<Entry>(next), generation = next->generation,
                              handler = std::move(next->handler)] {
        auto entry = weak.lock();
        if (entry && entry->generation == generation) handler();
      });
      settle();
    }
    now_ = target;
    std::erase_if(entries_, [](const std::weak_ptr<Entry>& weak) { return weak.expired(); });
    settle();
  }

  size_t armed_timers() const {
    size_t n = 0;
    for (const auto& weak : entries_) {
      auto entry = weak.lock();
      n += entry && entry->armed;
    }
    return n;
  }

 private:
  struct Entry {
    TimePoint due{};
    uint64_t order = 0;
    uint64_t generation = 0;
    bool armed = false;
    std::function<void()> handler;
  };

  class FakeTimer final : public Timer {
   public:
    FakeTimer(FakeClock& clock, std::shared_ptr<Entry> entry) : clock_(clock), entry_(std::move(entry)) {}
    ~FakeTimer() override { cancel(); }
    void start(std::chrono::milliseconds delay, std::function<void()> handler) override {
      ++entry_->generation;
      entry_->due = clock_.now_ + delay;
      entry_->order = ++clock_.order_;
      entry_->armed = true;
      entry_->handler = std::move(handler);
    }
    void cancel() override {
      ++entry_->generation;
      entry_->armed = false;
      entry_->handler = nullptr;
    }
    bool armed() const override { return entry_->armed; }

   private:
    FakeClock& clock_;
    std::shared_ptr<Entry> entry_;
  };

  boost::asio::io_context& io_;
  static constexpr TimePoint kStart{std::chrono::hours(1)};
  TimePoint now_{kStart};
  uint64_t order_ = 0;
  std::vector<std::weak_ptr<Entry>> entries_;
};

}  // namespace ergw::testing
