#include "lab/traffic.h"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "lab/netns.h"
#include "host/process.h"

namespace ergw::lab {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string seconds_text(std::chrono::milliseconds ms) {
  std::ostringstream out;
  out << static_cast<double>(ms.count()) / 1000.0;
  return out.str();
}

// Numbers in tool output, without exceptions: std::stod throws on ".".
double to_double(const std::string& text) {
  try {
    return std::stod(text);
  } catch (...) {
    return 0.0;
  }
}

// A decimal number of 1 to 9 digits starting at `pos` (every count fits an
// int; icmp_seq itself is 16 bits).
std::optional<int> number_at(const std::string& line, size_t pos) {
  size_t end = pos;
  while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
  if (end == pos || end - pos > 9) return std::nullopt;
  return std::stoi(line.substr(pos, end - pos));
}

}  // namespace

Result<PingResult> parse_ping_output(const std::string& text) {
  PingResult result;
  std::istringstream lines(text);
  std::string line;
  bool have_summary = false;
  std::set<int> seen;
  while (std::getline(lines, line)) {
    const size_t seq_at = line.find("icmp_seq=");
    const size_t summary_at = line.find(" packets transmitted, ");
    if (line.find(" bytes from ") != std::string::npos && seq_at != std::string::npos) {
      // "64 bytes from 10.0.2.10: icmp_seq=1 ttl=62 time=0.529 ms"; "From X icmp_seq=1 ..." is an error.
      const auto seq = number_at(line, seq_at + 9);
      if (seq && seen.insert(*seq).second) result.received_seqs.push_back(*seq);  // (DUP!) counts once
    } else if (summary_at != std::string::npos) {
      // "3 packets transmitted, 3 received, +1 errors, 0% packet loss, time 403ms"
      size_t first = summary_at;
      while (first > 0 && std::isdigit(static_cast<unsigned char>(line[first - 1]))) --first;
      const auto transmitted = number_at(line, first);
      const auto received = number_at(line, summary_at + 22);
      if (!transmitted || !received) continue;
      result.transmitted = *transmitted;
      result.received = *received;
      have_summary = true;
      const size_t loss_at = line.find("% packet loss");
      if (loss_at != std::string::npos) {
        size_t begin = loss_at;
        while (begin > 0 && (std::isdigit(static_cast<unsigned char>(line[begin - 1])) || line[begin - 1] == '.')) {
          --begin;
        }
        result.loss_percent = to_double(line.substr(begin, loss_at - begin));
      }
    } else if (line.rfind("rtt ", 0) == 0 || line.rfind("round-trip ", 0) == 0) {
      // "rtt min/avg/max/mdev = 0.529/0.833/1.136/0.247 ms": the second value.
      const size_t equals = line.find("= ");
      if (equals == std::string::npos) continue;
      const size_t slash = line.find('/', equals);
      if (slash == std::string::npos) continue;
      const size_t next = line.find('/', slash + 1);
      if (next == std::string::npos) continue;
      result.rtt_avg_ms = to_double(line.substr(slash + 1, next - slash - 1));
    }
  }
  if (!have_summary) return Error{"ping printed no summary"};
  return result;
}

Result<PingResult> ping(const std::string& netns, const std::string& destination, const PingOptions& options) {
  const std::vector<std::string> argv = {"ping", "-n", "-c", std::to_string(options.count), "-i",
                                         seconds_text(options.interval), "-W",
                                         std::to_string(options.reply_wait.count()), destination};
  const auto budget = options.interval * options.count + options.reply_wait + std::chrono::seconds(10);
  const host::CommandResult r = exec_in(netns, argv, std::chrono::duration_cast<std::chrono::milliseconds>(budget));
  if (r.timed_out) return Error{"ping " + destination + " from " + netns + " timed out"};
  auto parsed = parse_ping_output(r.out);
  if (!parsed.ok()) return Error{"ping " + destination + " from " + netns + ": " + parsed.error() + " (" + r.err + ")"};
  return parsed;
}

Result<IperfResult> parse_iperf3_json(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.contains("error")) return Error{"iperf3: " + j["error"].get<std::string>()};
    const auto& end = j.at("end");
    IperfResult r;
    const auto& sent = end.at("sum_sent");
    const auto& received = end.at("sum_received");
    r.sent_bits_per_second = sent.at("bits_per_second").get<double>();
    r.received_bits_per_second = received.at("bits_per_second").get<double>();
    r.retransmits = sent.value("retransmits", 0LL);
    r.seconds = received.value("seconds", sent.value("seconds", 0.0));
    r.bytes_received = received.value("bytes", 0LL);
    return r;
  } catch (const std::exception& e) {
    return Error{std::string("iperf3 --json output: ") + e.what()};
  }
}

Result<IperfResult> iperf3(const std::string& server_netns, const std::string& server_address,
                           const std::string& client_netns, const std::filesystem::path& log_dir,
                           const IperfOptions& options) {
  const std::string port = std::to_string(options.port);
  const auto server_log = log_dir / ("iperf3-server-" + port + ".log");
  auto server = host::spawn({{"ip", "netns", "exec", server_netns, "iperf3", "-s", "-1", "-B", server_address, "-p",
                               port},
                              {},
                              server_log});
  if (!server.ok()) return Error{server.error()};
  const pid_t server_pid = server.value();

  std::vector<std::string> client = {"iperf3", "-c", server_address, "-p", port, "-t",
                                     std::to_string(options.duration.count()), "-P", std::to_string(options.parallel),
                                     "--json"};
  if (options.reverse) client.push_back("-R");
  const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(options.duration + std::chrono::seconds(30));
  Result<IperfResult> result = Error{"iperf3 client did not run"};
  // The server needs a moment to listen; "connection refused" means try again.
  const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  for (;;) {
    const host::CommandResult r = exec_in(client_netns, client, budget);
    result = parse_iperf3_json(r.out);
    const bool refused = !result.ok() && result.error().find("refused") != std::string::npos;
    if (!refused || SteadyClock::now() > deadline || !host::process_alive(server_pid)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  host::terminate_process(server_pid, std::chrono::seconds(2));
  return result;
}

ContinuousPingReport summarize_continuous_ping(const PingResult& ping) {
  ContinuousPingReport report;
  report.transmitted = ping.transmitted;
  report.received = ping.received;
  if (ping.received_seqs.empty()) {
    report.lost = ping.transmitted;
    return report;
  }
  const std::set<int> seen(ping.received_seqs.begin(), ping.received_seqs.end());
  // Walk the gaps between answered sequence numbers (not every number: the
  // text may claim any icmp_seq); list at most kMaxListed of them.
  constexpr size_t kMaxListed = 10000;
  long long lost = 0;
  int previous = 0;
  for (int seq : seen) {
    for (long long missing = previous + 1LL; missing < seq; ++missing) {
      ++lost;
      if (report.missing_seqs.size() < kMaxListed) {
        report.missing_seqs.push_back(static_cast<int>(missing));
      } else {
        lost += seq - missing - 1;
        break;
      }
    }
    previous = seq;
  }
  report.lost = static_cast<int>(std::min<long long>(lost, 1LL << 30));
  return report;
}

ContinuousPing::ContinuousPing(std::string netns, std::string destination, std::filesystem::path log,
                               std::chrono::milliseconds interval)
    : netns_(std::move(netns)), destination_(std::move(destination)), log_(std::move(log)), interval_(interval) {}

ContinuousPing::~ContinuousPing() {
  if (pid_ > 0) (void)stop();
}

Status ContinuousPing::start() {
  std::error_code ec;
  std::filesystem::remove(log_, ec);
  auto pid = host::spawn({{"ip", "netns", "exec", netns_, "ping", "-n", "-i", seconds_text(interval_), "-W", "1",
                            destination_},
                           {},
                           log_});
  if (!pid.ok()) return Error{pid.error()};
  pid_ = pid.value();
  return {};
}

Result<ContinuousPingReport> ContinuousPing::stop() {
  if (pid_ <= 0) return Error{"continuous ping was not running"};
  // SIGINT makes ping print its summary; give it a moment, then insist.
  kill(pid_, SIGINT);
  const auto deadline = SteadyClock::now() + std::chrono::seconds(3);
  while (!host::reap_if_exited(pid_) && SteadyClock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  host::terminate_process(pid_, std::chrono::milliseconds(500));
  pid_ = 0;
  auto parsed = parse_ping_output(read_file(log_));
  if (!parsed.ok()) return Error{"continuous ping to " + destination_ + ": " + parsed.error()};
  return summarize_continuous_ping(parsed.value());
}

}  // namespace ergw::lab
