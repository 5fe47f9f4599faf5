// StatusCollector: asks the daemons behind `ergw status` at the same time,
// charon for its SAs (vici list-sas) and BIRD for its sessions (through the
// BgpController), each bounded by one deadline. A daemon that does not answer
// in time (stopped with SIGSTOP, hung, overloaded) delays the status by at
// most the deadline; the status then says which daemon did not answer and
// shows what it reported last, with its age. Its late answer is not lost: it
// becomes the "last reported" of the next status.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "gateway/ergwd/bgp_controller.h"
#include "vici/client.h"
#include "vici/sa_info.h"

namespace ergw::gateway {

struct CollectedStatus {
  std::vector<vici::IkeSaInfo> sas;  // charon's answer, or its last one when it did not answer
  std::string charon_error;          // why `sas` is not a fresh answer; empty if it is
  std::optional<nlohmann::json> bgp; // the BGP report, when a BgpController runs
  // The daemons that did not answer within the deadline, each with why.
  nlohmann::json not_answering = nlohmann::json::array();
};

class StatusCollector {
 public:
  StatusCollector(boost::asio::any_io_executor executor, ergw::Clock& clock, vici::Client& charon,
                  std::chrono::milliseconds deadline);
  ~StatusCollector();
  StatusCollector(const StatusCollector&) = delete;
  StatusCollector& operator=(const StatusCollector&) = delete;

  // `bgp` may be null (no BGP yet); it must outlive the collections it joins.
  void collect(BgpController* bgp, std::function<void(CollectedStatus)> done);

 private:
  struct Round;
  void finish(Round& round);

  boost::asio::any_io_executor executor_;
  ergw::Clock& clock_;
  vici::Client& charon_;
  std::chrono::milliseconds deadline_;
  std::vector<vici::IkeSaInfo> last_sas_;
  std::optional<ergw::Clock::TimePoint> last_sas_at_;
  std::vector<std::unique_ptr<Round>> rounds_;
  uint64_t next_round_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::gateway
