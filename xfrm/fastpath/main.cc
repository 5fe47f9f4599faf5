// ergw-fastpath: the userspace ESP fast path as a daemon, keyed by a static SA
// file (docs/fastpath.md). Moves packets TUN -> ESP -> UDP/raw and back.
//
//   ergw-fastpath --sa-file sas.json --tun ergw0 [--queues N] [--no-offload]
//
// SIGUSR1 prints the counters; SIGTERM/SIGINT stop cleanly (counters printed).
#include <CLI/CLI.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "xfrm/fastpath/counters_report.h"
#include "xfrm/fastpath/cpu_list.h"
#include "xfrm/fastpath/datapath.h"
#include "xfrm/fastpath/sa_file.h"

namespace {

using ergw::xfrm::fastpath::Datapath;

void print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

const char* kind_name(ergw::xfrm::esp::ExpireKind kind) {
  return kind == ergw::xfrm::esp::ExpireKind::soft ? "soft" : "hard";
}

const char* cause_name(ergw::xfrm::esp::ExpireCause cause) {
  switch (cause) {
    case ergw::xfrm::esp::ExpireCause::bytes: return "bytes";
    case ergw::xfrm::esp::ExpireCause::packets: return "packets";
    case ergw::xfrm::esp::ExpireCause::seconds: return "seconds";
    case ergw::xfrm::esp::ExpireCause::sequence: return "sequence";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ergw-fastpath: userspace ESP fast path with static (manually keyed) SAs"};
  std::string sa_path;
  ergw::xfrm::fastpath::DatapathOptions options;
  bool no_offload = false, no_tun_offload = false, no_udp_gso = false, no_udp_gro = false, check_only = false;
  unsigned keepalive_seconds = 20;
  app.add_option("--sa-file", sa_path, "static SA file (JSON, docs/fastpath.md)")->required();
  app.add_option("--tun", options.tun.name, "TUN device name (created if absent)")->capture_default_str();
  int outer_mtu = 1500;
  std::string mtu_text = "auto";
  app.add_option("--mtu", mtu_text, "TUN MTU: a number, or auto (= outer MTU minus the worst ESP overhead)")
      ->capture_default_str();
  app.add_option("--outer-mtu", outer_mtu, "MTU of the outer path, for --mtu auto")->capture_default_str();
  app.add_option("--queues", options.tun.queues, "TUN queues; two worker threads each")->default_val(1);
  app.add_option("--keepalive", keepalive_seconds, "RFC 3948 NAT-keepalive interval in seconds, 0 = off")
      ->capture_default_str();
  std::string cpus_text;
  app.add_option("--cpus", cpus_text,
                 "pin the worker threads round-robin to these CPUs (e.g. 0 or 0-1,4; default: not pinned)");
  app.add_flag("--no-offload", no_offload, "plain I/O: no TUN offloads, no UDP GSO/GRO");
  app.add_flag("--no-tun-offload", no_tun_offload, "no IFF_VNET_HDR/TUNSETOFFLOAD");
  app.add_flag("--no-udp-gso", no_udp_gso, "no UDP_SEGMENT");
  app.add_flag("--no-udp-gro", no_udp_gro, "no UDP_GRO");
  app.add_flag("--check", check_only, "validate the SA file and exit");
  CLI11_PARSE(app, argc, argv);

  options.tun.offload = !(no_offload || no_tun_offload);
  options.udp_gso = !(no_offload || no_udp_gso);
  options.udp_gro = !(no_offload || no_udp_gro);
  if (!cpus_text.empty()) {
    auto cpus = ergw::xfrm::fastpath::parse_cpu_list(cpus_text);
    if (!cpus) {
      std::fprintf(stderr, "ergw-fastpath: --cpus: not a CPU list (e.g. 0, 0,1 or 0-3): %s\n", cpus_text.c_str());
      return 2;
    }
    options.cpus = std::move(*cpus);
  }

  auto file = ergw::xfrm::fastpath::load_sa_file(sa_path);
  if (!file.ok()) {
    std::fprintf(stderr, "ergw-fastpath: %s\n", file.error().c_str());
    return 2;
  }
  struct stat st {};
  if (::stat(sa_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    // The file holds keys: say so, but do not refuse (tests, containers).
    std::fprintf(stderr, "ergw-fastpath: warning: %s is readable by group/others (it holds keys; chmod 600)\n",
                 sa_path.c_str());
  }
  if (mtu_text == "auto") {
    options.tun.mtu = ergw::xfrm::fastpath::inner_mtu_for(*file, outer_mtu);
  } else {
    try {
      options.tun.mtu = std::stoi(mtu_text);
    } catch (const std::exception&) {
      options.tun.mtu = -1;
    }
    if (options.tun.mtu < 68 || options.tun.mtu > 65535) {
      std::fprintf(stderr, "ergw-fastpath: --mtu must be auto or 68-65535\n");
      return 2;
    }
  }
  if (check_only) {
    print("ergw-fastpath: " + sa_path + ": " + std::to_string(file->sas.size()) + " SAs OK\n");
    return 0;
  }

  // Block the signals in every thread (workers inherit the mask); the main
  // thread takes them synchronously with sigtimedwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto created = Datapath::create(*file, options);
  if (!created.ok()) {
    std::fprintf(stderr, "ergw-fastpath: %s\n", created.error().c_str());
    return 1;
  }
  Datapath& datapath = **created;
  std::string banner = "ergw-fastpath: " + std::to_string(file->sas.size()) + " SAs from " + sa_path +
                       ", tun mtu " + std::to_string(options.tun.mtu) + "\n";
  for (const std::string& line : datapath.capability_report()) banner += "ergw-fastpath: " + line + "\n";
  for (const auto& sa : file->sas) {
    banner += "ergw-fastpath: sa " + sa.name + " dir=" +
              (sa.config.direction == ergw::xfrm::esp::Direction::outbound ? "out" : "in") + " " +
              ergw::xfrm::esp::to_string(sa.config.algorithm) + " " + sa.config.local.to_string() + " <-> " +
              sa.config.remote.to_string() +
              (sa.config.encapsulation == ergw::xfrm::esp::Encapsulation::udp ? " espinudp" : " esp") + "\n";
  }
  for (const std::string& line : datapath.start()) banner += "ergw-fastpath: " + line + "\n";
  banner += "ergw-fastpath: running\n";
  print(banner);

  using Clock = std::chrono::steady_clock;
  Clock::time_point next_keepalive = Clock::now() + std::chrono::seconds(keepalive_seconds);
  std::vector<ergw::xfrm::esp::SaEvent> events;
  for (;;) {
    timespec timeout{1, 0};
    const int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGUSR1) print(ergw::xfrm::fastpath::counters_report(datapath));
    const Clock::time_point now = Clock::now();
    datapath.table().expire_by_time(now);
    events.clear();
    datapath.table().drain_events(events);
    for (const auto& event : events) {
      char spi[16];
      std::snprintf(spi, sizeof(spi), "0x%08x", event.spi);
      print(std::string("ergw-fastpath: SA spi=") + spi + " " + kind_name(event.kind) + " expire (" +
            cause_name(event.cause) + ")" +
            (event.kind == ergw::xfrm::esp::ExpireKind::hard ? ": stopped; rekey by hand\n" : ": rekey soon\n"));
    }
    if (keepalive_seconds != 0 && now >= next_keepalive) {
      datapath.send_nat_keepalives();
      next_keepalive = now + std::chrono::seconds(keepalive_seconds);
    }
  }
  datapath.stop();
  print(ergw::xfrm::fastpath::counters_report(datapath));
  print("ergw-fastpath: stopped\n");
  return 0;
}
