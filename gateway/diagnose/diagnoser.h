// Diagnoser: runs `ergw diagnose` off every event loop. It takes the status
// report and the active configuration (what ergwd already knows), probes the
// underlay of each connection's Azure tunnel address, reads the kernel's
// routes and clock on a thread of its own (the probes wait up to a second
// each), runs the checks (checks.h) and hands the findings back. One
// diagnosis at a time: a second request while one runs is refused.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/diagnose/checks.h"
#include "gateway/diagnose/finding.h"

namespace ergw::diagnose {

// Gathers the evidence for `status` and `config` (blocking: probes, iproute2,
// adjtimex). `only`: one connection's probes; empty: every connection.
Evidence gather(nlohmann::json status, nlohmann::json config, std::string only);

class Diagnoser {
 public:
  using Done = std::function<void(std::vector<Finding>)>;
  Diagnoser() = default;
  ~Diagnoser();
  Diagnoser(const Diagnoser&) = delete;
  Diagnoser& operator=(const Diagnoser&) = delete;

  // False when a diagnosis is running. `done` is called on the diagnosis
  // thread: the caller posts it to its own executor.
  bool start(nlohmann::json status, nlohmann::json config, std::string only, Done done);

 private:
  std::mutex mutex_;
  std::thread worker_;
  bool running_ = false;
};

}  // namespace ergw::diagnose
