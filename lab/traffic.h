// Traffic through the lab: ping (count and loss), iperf3 (throughput and
// retransmits from its --json report) and a background ping that reports the
// packets lost while it ran (for rekey-without-loss tests).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace ergw::lab {

struct PingResult {
  int transmitted = 0;
  int received = 0;
  double loss_percent = 100.0;
  std::optional<double> rtt_avg_ms;
  std::vector<int> received_seqs;  // icmp_seq of every reply, in arrival order
};

// Parses iputils ping output (the per-reply lines and the summary).
Result<PingResult> parse_ping_output(const std::string& text);

struct PingOptions {
  int count = 3;
  std::chrono::milliseconds interval{200};
  std::chrono::seconds reply_wait{1};   // -W: how long to wait for the last reply
};
// `ping` from inside `netns` to `destination`.
Result<PingResult> ping(const std::string& netns, const std::string& destination, const PingOptions& options = {});

struct IperfResult {
  double sent_bits_per_second = 0;
  double received_bits_per_second = 0;
  long long retransmits = 0;     // TCP only; 0 when iperf3 does not report them
  double seconds = 0;
  long long bytes_received = 0;
};

// Parses `iperf3 --json` client output (end.sum_sent / end.sum_received).
Result<IperfResult> parse_iperf3_json(const std::string& text);

struct IperfOptions {
  std::chrono::seconds duration{5};
  int port = 5201;
  int parallel = 1;
  bool reverse = false;  // -R: the server sends
};
// Starts a one-shot iperf3 server in `server_netns` bound to `server_address`,
// runs the client in `client_netns` and returns the client's report. The
// server's output goes to `log_dir`/iperf3-server-<port>.log.
Result<IperfResult> iperf3(const std::string& server_netns, const std::string& server_address,
                           const std::string& client_netns, const std::filesystem::path& log_dir,
                           const IperfOptions& options = {});

struct ContinuousPingReport {
  int transmitted = 0;
  int received = 0;
  // Requests with no reply among those sent before the last reply came back;
  // the last few still in flight when the ping stopped are not counted.
  int lost = 0;
  std::vector<int> missing_seqs;
};

// Counts missing icmp_seq numbers up to the highest one answered.
ContinuousPingReport summarize_continuous_ping(const PingResult& ping);

// A ping running in the background from `netns`; stop() ends it with SIGINT
// and reports. The destructor stops it if the caller did not.
class ContinuousPing {
 public:
  ContinuousPing(std::string netns, std::string destination, std::filesystem::path log,
                 std::chrono::milliseconds interval = std::chrono::milliseconds(50));
  ~ContinuousPing();
  ContinuousPing(const ContinuousPing&) = delete;
  ContinuousPing& operator=(const ContinuousPing&) = delete;

  Status start();
  Result<ContinuousPingReport> stop();

 private:
  std::string netns_;
  std::string destination_;
  std::filesystem::path log_;
  std::chrono::milliseconds interval_;
  pid_t pid_ = 0;
};

}  // namespace ergw::lab
