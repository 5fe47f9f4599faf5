// ergw_many_tunnels_bench: N site-to-site connections from a cold start in the
// lab (lab/azure/many_connections.h), and what they cost ergwd. A benchmark:
// it prints figures (key=value lines, then a summary) and asserts nothing; the
// correctness of the same lab is tests/gateway/tunnel/many_tunnels_test.cc.
// Run it through bench/many-tunnels (root: network namespaces).
//
// Measured, in order:
//   up          from ergwd's start to every connection UP with its routes
//               (status polled every 100 ms; first, half, all), then until
//               ergwd's PFS probe (a CHILD rekey per new IKE SA) concluded
//               on every one;
//   idle        ergwd's (and for comparison charon's and ergw-fastpath's) CPU
//               over a quiet window, nobody asking ergwd anything: what its
//               StatePublisher costs (it gathers and builds the status and
//               the metrics' observation every second);
//   status      `ergw status` and `ergw status --json` (whole processes over
//               the API's socket, median of R), beside the peer `swanctl
//               --list-sas` (charon listing the same SAs; ergwd's status
//               lists them too); GET /v1/status and GET /metrics on the API's
//               socket (the requests alone); a status gathered and built on
//               request (the control socket's); ergwd's CPU per request of
//               each, less its idle rate;
//   reconcile   the duration of a pass as ergwd reports it, and ergwd's CPU
//               for an unchanged reload (read, compile, one pass);
//   change      a reload (SIGHUP after editing ergwd's configuration file)
//               that changes one connection: the time until that connection
//               is UP with a new IKE SA, and how many of the others kept
//               their IKE SA (unique id and SPIs, charon's own listing).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "gateway/cli/api_client.h"
#include "gateway/cli/status_command.h"
#include "host/process.h"
#include "lab/azure/azure_lab.h"
#include "lab/azure/many_connections.h"
#include "lab/azure/pfs_probe_settled.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace ergw;
using namespace ergw::azure_lab;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The pid of the process named `comm` in a network namespace.
pid_t pid_in_netns(const std::string& netns, const std::string& comm) {
  auto r = host::run_command({"ip", "netns", "pids", netns}, std::chrono::seconds(5));
  std::istringstream pids(r.out);
  std::string pid;
  while (pids >> pid) {
    std::ifstream in("/proc/" + pid + "/comm");
    std::string name;
    std::getline(in, name);
    if (name == comm) return static_cast<pid_t>(std::stoi(pid));
  }
  return 0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string fixed(double v, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

int count_up(const nlohmann::json& status) {
  int up = 0;
  for (const auto& c : status.value("connections", nlohmann::json::array())) {
    bool routed = true;
    for (const auto& r : c.value("routes", nlohmann::json::array())) routed = routed && r.value("installed", false);
    if (c.value("state", "") == "UP" && routed) ++up;
  }
  return up;
}

// Whether every connection's PFS probe has settled (pfs_probe_settled);
// `states` counts the probes' outcomes.
bool pfs_probes_settled(const nlohmann::json& status, std::map<std::string, int>& states) {
  states.clear();
  bool all = true;
  for (const auto& c : status.value("connections", nlohmann::json::array())) {
    const std::string probe = c.value("pfs", nlohmann::json::object()).value("probe", "");
    ++states[probe.empty() ? "none" : probe];
    all = all && pfs_probe_settled(c);
  }
  return all;
}

struct Options {
  int connections = 100;
  std::string data_plane = "fastpath";
  std::string azure_mode = "ResponderOnly";
  int rounds = 20;
  int idle_seconds = 20;
  int up_timeout = 300;
  std::string build = "build";
  std::string keep_logs;  // copy the daemons' logs here before the lab goes
  bool keep = false;      // leave the lab up (ergw-lab down LABID)
};

int run(const Options& o) {
  const fs::path bin = fs::absolute(fs::path(o.build) / "bin");
  const fs::path plugins = fs::absolute(fs::path(o.build) / "lib" / "charon-plugins");
  const fs::path work = fs::temp_directory_path() / ("ergw-many-tunnels-" + std::to_string(::getpid()));
  fs::create_directories(work);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{work};

  std::ifstream in(fs::path(ERGW_SOURCE_DIR) / "examples/lab.json");
  auto config = many_connections(nlohmann::json::parse(in), o.connections, o.azure_mode);
  if (!config) {
    std::cerr << config.error() << "\n";
    return 2;
  }
  const auto file = work / "many.json";
  auto write_config = [&](const nlohmann::json& doc) {
    std::ofstream(file, std::ios::trunc) << doc.dump(2);
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  };
  write_config(config.value());

  std::cout << "connections=" << o.connections << " data_plane=" << o.data_plane << " azure_mode=" << o.azure_mode
            << "\nload_average_at_start=" << load_average() << "\n";
  AzureLabOptions options;
  options.config_file = file;
  options.ergwd_path = bin / "ergwd";
  options.fastpath_path = bin / "ergw-fastpath";
  options.ergw_ipsec_plugin_dir = plugins;
  options.appliance_backend = o.data_plane == "fastpath" ? lab::CharonBackend::ergw_ipsec : lab::CharonBackend::libipsec;
  options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
  options.keep = o.keep;
  const auto lab_start = Clock::now();
  auto created = AzureLab::create(options);
  if (!created) {
    std::cerr << "the lab did not come up: " << created.error() << "\n";
    return 1;
  }
  auto& azure_lab = *created.value();
  const auto started = azure_lab.ergwd_started_at();
  std::cout << "lab_setup_ms=" << fixed(std::chrono::duration<double, std::milli>(started - lab_start).count(), 0)
            << " (namespaces, both charons, the Azure side's " << o.connections << " connections; before ergwd)\n";

  // --- up -------------------------------------------------------------------
  double first_up = -1, half_up = -1, all_up = -1;
  nlohmann::json last;
  // How many were up at each poll: the shape says whether they come up
  // together (pacing by one stage) or in waves (retransmissions, passes).
  std::vector<std::pair<double, int>> curve;
  while (ms_since(started) < o.up_timeout * 1000.0) {
    auto s = azure_lab.status();
    const double at = ms_since(started);
    if (s) {
      last = s.value();
      const int up = count_up(last);
      if (curve.empty() || curve.back().second != up) curve.emplace_back(at, up);
      if (up >= 1 && first_up < 0) first_up = at;
      if (up * 2 >= o.connections && half_up < 0) half_up = at;
      if (up == o.connections) {
        all_up = at;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (all_up < 0) {
    std::cout << "all_up=timeout after " << o.up_timeout << " s: " << count_up(last) << " of " << o.connections
              << " up\n";
    std::cerr << cli::format_status(last);
    return 1;
  }
  std::cout << "up_curve=";
  for (const auto& [at, up] : curve) std::cout << fixed(at / 1000.0, 1) << "s:" << up << " ";
  std::cout << "\n";
  std::cout << "first_up_ms=" << fixed(first_up, 0) << "\nhalf_up_ms=" << fixed(half_up, 0)
            << "\nall_up_ms=" << fixed(all_up, 0) << "\n";
  if (last.contains("fastpath")) {
    std::cout << "fastpath_tables=sas " << last["fastpath"].value("sas", 0) << ", policies "
              << last["fastpath"].value("policies", 0) << ", routes " << last["fastpath"].value("routes", 0) << "\n";
  }
  std::cout << "passes_until_up=" << last["reconciler"].value("passes", 0)
            << " longest_pass_ms=" << fixed(last["reconciler"].value("longest_pass_ms", 0.0)) << "\n";

  const auto appliance_ns = azure_lab.lab().netns(lab::Node::appliance);
  const auto ergwd = azure_lab.lab().supervisor().pid("ergwd");
  const pid_t charon = pid_in_netns(appliance_ns, "charon");
  const pid_t fastpath = pid_in_netns(appliance_ns, "ergw-fastpath");
  if (!ergwd) {
    std::cerr << "no ergwd pid\n";
    return 1;
  }
  std::cout << "ergwd_cpu_until_up_s=" << fixed(cpu_seconds(*ergwd), 2) << "\n";

  // --- PFS probes ------------------------------------------------------------
  // ergwd probes each new IKE SA with a CHILD rekey about a second after it
  // is up: 100 rekeys, which the idle window below must not count.
  double probes_done = -1;
  std::map<std::string, int> probe_states;
  while (ms_since(started) < o.up_timeout * 1000.0) {
    auto st = azure_lab.status();
    if (st && pfs_probes_settled(st.value(), probe_states)) {
      probes_done = ms_since(started);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cout << "pfs_probes_concluded_ms=" << (probes_done < 0 ? std::string("timeout") : fixed(probes_done, 0))
            << " (";
  for (const auto& [state, n] : probe_states) std::cout << state << " " << n << " ";
  std::cout << ")\n";

  // --- idle -----------------------------------------------------------------
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the probes' old CHILD SAs deleted, events handled
  const double e0 = cpu_seconds(*ergwd), c0 = charon ? cpu_seconds(charon) : 0, f0 = fastpath ? cpu_seconds(fastpath) : 0;
  const auto idle_start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(o.idle_seconds));
  const double idle_s = ms_since(idle_start) / 1000.0;
  auto percent = [&](double cpu) { return fixed(100.0 * cpu / idle_s, 2) + "%"; };
  const double idle_cpu_ergwd = cpu_seconds(*ergwd) - e0;
  const auto idle_ergwd = percent(idle_cpu_ergwd);
  std::cout << "idle_window_s=" << fixed(idle_s, 1) << "\nidle_cpu_ergwd=" << idle_ergwd
            << "\nidle_cpu_charon=" << (charon ? percent(cpu_seconds(charon) - c0) : "n/a")
            << "\nidle_cpu_fastpath=" << (fastpath ? percent(cpu_seconds(fastpath) - f0) : "n/a") << "\n";

  // --- status and metrics ------------------------------------------------------
  // ergwd's CPU per request is its CPU over the requests less what it spends
  // meanwhile anyway (the idle rate above: the StatePublisher's gathering).
  const double idle_rate = idle_cpu_ergwd / idle_s;
  auto cpu_per_request_ms = [&](double cpu_before, Clock::time_point since, int requests) {
    const double used = cpu_seconds(*ergwd) - cpu_before - idle_rate * ms_since(since) / 1000.0;
    return std::max(0.0, used) * 1000.0 / requests;
  };
  const auto api_socket = azure_lab.api_socket();
  auto time_command = [&](const std::vector<std::string>& argv, size_t& bytes) {
    std::vector<double> samples;
    for (int i = 0; i < o.rounds; ++i) {
      const auto t = Clock::now();
      auto r = host::run_command(argv, std::chrono::seconds(30));
      samples.push_back(ms_since(t));
      if (!r.ok()) std::cerr << argv.front() << " failed: " << r.err << "\n";
      bytes = r.out.size();
    }
    return median(samples);
  };
  size_t text_bytes = 0, json_bytes = 0, swanctl_bytes = 0;
  double request_cpu = cpu_seconds(*ergwd);
  auto request_start = Clock::now();
  const double status_text = time_command({(bin / "ergw").string(), "status", "--socket", api_socket}, text_bytes);
  const double status_json =
      time_command({(bin / "ergw").string(), "status", "--json", "--socket", api_socket}, json_bytes);
  const double cpu_per_cli_status = cpu_per_request_ms(request_cpu, request_start, 2 * o.rounds);
  const auto vici = azure_lab.appliance_charon().vici_socket().string();
  const double swanctl = time_command({"ip", "netns", "exec", appliance_ns, "swanctl", "--list-sas", "--uri",
                                       "unix://" + vici},
                                      swanctl_bytes);
  // The API's requests alone (HTTP over its local socket, in this process):
  // what a monitoring system asking every few seconds costs.
  cli::ApiTarget target;
  target.socket = api_socket;
  target.timeout = std::chrono::seconds(30);
  struct ApiFigures {
    double wall_ms = 0;
    double cpu_ms = 0;
    size_t bytes = 0;
  };
  auto time_api = [&](const std::string& path) {
    ApiFigures f;
    std::vector<double> samples;
    const double c = cpu_seconds(*ergwd);
    const auto t = Clock::now();
    for (int i = 0; i < o.rounds; ++i) {
      const auto one = Clock::now();
      auto r = cli::api_request(target, "GET", path);
      samples.push_back(ms_since(one));
      if (!r || r->status != 200) {
        std::cerr << "GET " << path << " failed: " << (r ? r->problem() : r.error()) << "\n";
      } else {
        f.bytes = r->body.size();
      }
    }
    f.wall_ms = median(samples);
    f.cpu_ms = cpu_per_request_ms(c, t, o.rounds);
    return f;
  };
  const auto api_status = time_api("/v1/status");
  const auto api_metrics = time_api("/metrics");
  // The control socket builds a status when asked (charon's SAs listed anew):
  // the cost of one gathering, which the StatePublisher pays every second.
  std::vector<double> in_process;
  request_cpu = cpu_seconds(*ergwd);
  request_start = Clock::now();
  for (int i = 0; i < o.rounds; ++i) {
    const auto t = Clock::now();
    (void)azure_lab.status();
    in_process.push_back(ms_since(t));
  }
  const double cpu_per_built_status = cpu_per_request_ms(request_cpu, request_start, o.rounds);
  std::cout << "status_text_ms=" << fixed(status_text) << " (" << text_bytes << " bytes; ergw status, a process)\n"
            << "status_json_ms=" << fixed(status_json) << " (" << json_bytes << " bytes)\n"
            << "ergwd_cpu_per_cli_status_ms=" << fixed(cpu_per_cli_status, 2) << "\n"
            << "api_status_ms=" << fixed(api_status.wall_ms, 2) << " (" << api_status.bytes
            << " bytes; GET /v1/status on the API's socket)\n"
            << "ergwd_cpu_per_api_status_ms=" << fixed(api_status.cpu_ms, 2) << "\n"
            << "api_metrics_ms=" << fixed(api_metrics.wall_ms, 2) << " (" << api_metrics.bytes
            << " bytes; GET /metrics on the API's socket)\n"
            << "ergwd_cpu_per_api_metrics_ms=" << fixed(api_metrics.cpu_ms, 2) << "\n"
            << "built_status_ms=" << fixed(median(in_process))
            << " (the control socket's status, gathered and built on request)\n"
            << "ergwd_cpu_per_built_status_ms=" << fixed(cpu_per_built_status, 2) << "\n"
            << "peer_swanctl_list_sas_ms=" << fixed(swanctl) << " (" << swanctl_bytes << " bytes)\n"
            << "status_json_vs_swanctl_list_sas=" << fixed(status_json / swanctl, 2) << "\n";

  // --- reconcile -------------------------------------------------------------
  auto s = azure_lab.status();
  if (s) {
    std::cout << "reconcile_last_pass_ms=" << fixed(s.value()["reconciler"].value("last_pass_ms", 0.0))
              << " (wall, first vici request to last answer; passes so far "
              << s.value()["reconciler"].value("passes", 0) << ")\n";
  }
  {
    const double cpu0 = cpu_seconds(*ergwd);
    std::vector<double> samples;
    for (int i = 0; i < o.rounds; ++i) {
      const auto t = Clock::now();
      if (auto r = azure_lab.reload_ergwd(); !r) std::cerr << "reload: " << r.error() << "\n";
      samples.push_back(ms_since(t));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // its pass runs after the reply
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto after = azure_lab.status();
    std::cout << "unchanged_reload_reply_ms=" << fixed(median(samples))
              << "\nergwd_cpu_per_unchanged_reload_and_pass_ms="
              << fixed((cpu_seconds(*ergwd) - cpu0) * 1000.0 / o.rounds, 2);
    if (after) {
      std::cout << "\nreconcile_last_pass_ms_after_reloads="
                << fixed(after.value()["reconciler"].value("last_pass_ms", 0.0));
    }
    std::cout << "\n";
  }

  // --- change one -------------------------------------------------------------
  auto listing = [&] {
    auto l = azure_lab.appliance_charon().list_sas();
    return l ? parse_sa_listing(l.value()) : std::map<std::string, SaListing>{};
  };
  const auto before = listing();
  const int changed_index = o.connections / 2;
  const std::string changed = config.value()["connections"][changed_index]["name"];
  auto doc = config.value();
  doc["connections"][changed_index]["azure"]["properties"]["dpdTimeoutSeconds"] = 60;
  // The way an operator does it: edit ergwd's configuration file (the export
  // of its active revision) and send SIGHUP.
  std::ofstream(azure_lab.ergwd_config(), std::ios::trunc) << doc.dump(2);
  const auto hup = Clock::now();
  ::kill(*ergwd, SIGHUP);
  double changed_up = -1;
  while (ms_since(hup) < 60'000) {
    auto now = listing();
    const auto it = now.find(changed);
    const auto was = before.find(changed);
    if (it != now.end() && it->second.established && !it->second.installed.empty() &&
        (was == before.end() || it->second.ike_sas != was->second.ike_sas)) {
      auto st = azure_lab.status();
      if (st && count_up(st.value()) == o.connections) {
        changed_up = ms_since(hup);
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto after = listing();
  int kept = 0, others = 0;
  for (const auto& [name, sa] : before) {
    if (name == changed) continue;
    ++others;
    const auto it = after.find(name);
    if (it != after.end() && it->second.ike_sas == sa.ike_sas) ++kept;
  }
  std::cout << "change_one_connection=" << changed << " (dpdTimeoutSeconds 45 -> 60, SIGHUP)\n"
            << "change_one_until_up_ms=" << (changed_up < 0 ? std::string("timeout") : fixed(changed_up, 0))
            << "\nothers_keeping_their_ike_sa=" << kept << "/" << others << "\n";
  std::cout << "load_average_at_end=" << load_average() << "\n";
  if (!o.keep_logs.empty()) {
    const auto state = azure_lab.lab().state_dir();
    fs::create_directories(o.keep_logs);
    for (const auto& [from, to] : std::vector<std::pair<fs::path, std::string>>{
             {state / "ergwd.log", "ergwd.log"},
             {state / "appliance" / "charon.log", "appliance-charon.log"},
             {state / "azure-gw" / "charon.log", "azure-charon.log"},
             {state / "appliance" / "fastpath" / "fastpath.log", "fastpath.log"}}) {
      std::error_code ec;
      fs::copy_file(from, fs::path(o.keep_logs) / (o.data_plane + "-" + to), fs::copy_options::overwrite_existing, ec);
    }
  }
  if (o.keep) std::cout << "kept lab " << azure_lab.lab().id() << " (ergwd pid " << *ergwd << ")\n";
  std::cout << "SUMMARY connections=" << o.connections << " data_plane=" << o.data_plane
            << " all_up_s=" << fixed(all_up / 1000.0, 2) << " change_one_s="
            << (changed_up < 0 ? std::string("timeout") : fixed(changed_up / 1000.0, 2))
            << " untouched=" << kept << "/" << others << " status_json_ms=" << fixed(status_json)
            << " api_status_ms=" << fixed(api_status.wall_ms, 2) << " api_metrics_ms=" << fixed(api_metrics.wall_ms, 2)
            << " idle_cpu_ergwd=" << idle_ergwd << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"N site-to-site connections in the lab: bring-up, reload and status costs"};
  app.add_option("--connections", o.connections, "how many connections")->capture_default_str();
  app.add_option("--data-plane", o.data_plane, "the appliance's data plane")
      ->check(CLI::IsMember({"fastpath", "libipsec"}))
      ->capture_default_str();
  app.add_option("--azure-mode", o.azure_mode, "Azure's connectionMode for every connection")
      ->check(CLI::IsMember({"Default", "ResponderOnly", "InitiatorOnly"}))
      ->capture_default_str();
  app.add_option("--rounds", o.rounds, "samples per status/reload figure")->capture_default_str();
  app.add_option("--idle-seconds", o.idle_seconds, "the quiet window for idle CPU")->capture_default_str();
  app.add_option("--up-timeout", o.up_timeout, "seconds to wait for all up")->capture_default_str();
  app.add_option("--build", o.build, "the build directory (bin/, lib/charon-plugins/)")->capture_default_str();
  app.add_option("--keep-logs", o.keep_logs, "copy ergwd's, both charons' and the fast path's logs into DIR");
  app.add_flag("--keep", o.keep, "leave the lab up at the end (remove it with ergw-lab down LABID)");
  CLI11_PARSE(app, argc, argv);
  if (::geteuid() != 0) {
    std::cerr << "needs root: the lab builds network namespaces\n";
    return 2;
  }
  return run(o);
}
