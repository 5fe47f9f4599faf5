// FakeBackend: a stand-in for ergwd's daemon behind the management API, for
// the API's own tests (the lab tests drive the real ergwd with charon). It
// keeps "tunnels" that come up a moment after an apply and publishes what a
// daemon would (status, observation) to the SnapshotBoard. Markers in the
// configuration make it behave badly on purpose:
//   - a PSK starting with "wrong" fails with "authentication failed";
//   - a PSK starting with "charonrefuses" is refused by "charon" at apply;
//   - a connection named "daemon-refuses" fails the daemon's own check.
// connectionMode InitiatorOnly (Azure dials) never comes up by itself.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/api/backend.h"
#include "gateway/api/snapshot_board.h"

namespace ergw::api::testing {

struct FakeBackendOptions {
  std::chrono::milliseconds apply_delay{20};  // until "charon and BIRD took it"
  std::chrono::milliseconds up_delay{200};    // until a tunnel is up
  std::chrono::milliseconds tick{100};        // observation refresh
};

class FakeBackend : public Backend {
 public:
  FakeBackend(boost::asio::io_context& io, SnapshotBoard& board, FakeBackendOptions options = {});

  void check(const policy::ApplianceConfig& config, Diagnostics& diagnostics) override;
  void apply(const policy::ApplianceConfig& config, std::function<void(ApplyResult)> done) override;

  // How many applies ran, and the PSK each connection runs with now (tests).
  int applies() const { return applies_; }
  std::map<std::string, std::string> running_keys() const;
  // Simulates charon going away and coming back (counters keep counting).
  void set_charon_up(bool up);

 private:
  struct Tunnel {
    std::string fingerprint;
    std::string key;
    std::string remote;
    std::string mode;
    bool dials = true;
    bool up = false;
    int64_t established_at = 0;
    std::chrono::steady_clock::time_point up_at;
    bool fails = false;
    uint64_t bytes = 0;
    std::string last_error;
    int64_t last_error_at = 0;
  };
  void tick();
  void publish();

  boost::asio::io_context& io_;
  SnapshotBoard& board_;
  FakeBackendOptions options_;
  std::map<std::string, Tunnel> tunnels_;
  boost::asio::steady_timer timer_;
  bool charon_up_ = true;
  int applies_ = 0;
};

}  // namespace ergw::api::testing
