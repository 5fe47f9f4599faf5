// ergw-fastpath: the userspace ESP fast path as a daemon (docs/fastpath.md).
// Moves packets TUN -> ESP -> UDP/raw and back, with SAs installed at run time
// over its control socket (by charon through the ergw-ipsec plugin), or once
// from a static SA file.
//
//   ergw-fastpath --control /run/ergw/fastpath.sock --tun ergw0 [--sequence-file F]
//   ergw-fastpath --sa-file sas.json --tun ergw0 [--queues N] [--no-offload]
//
// SIGUSR1 prints the counters; SIGTERM/SIGINT stop cleanly (counters printed).
#include <CLI/CLI.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "xfrm/fastpath/control_handler.h"
#include "xfrm/fastpath/control_server.h"
#include "xfrm/fastpath/counters_report.h"
#include "xfrm/fastpath/cpu_list.h"
#include "xfrm/fastpath/datapath.h"
#include "xfrm/fastpath/ipsec_state.h"
#include "xfrm/fastpath/sa_file.h"
#include "xfrm/fastpath/static_sas.h"

namespace {

namespace asio = boost::asio;
using ergw::xfrm::fastpath::Datapath;

void print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
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

std::string hex32(uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", v);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ergw-fastpath: userspace ESP fast path; SAs from charon (ergw-ipsec plugin) or a static file"};
  std::string sa_path, control_path, sequence_path;
  std::vector<std::string> locals;
  ergw::xfrm::fastpath::DatapathOptions options;
  bool no_offload = false, no_tun_offload = false, no_udp_gso = false, no_udp_gro = false, check_only = false;
  unsigned keepalive_seconds = 20;
  app.add_option("--sa-file", sa_path, "static SA file (JSON, docs/fastpath.md)");
  app.add_option("--control", control_path,
                 "control socket (unix, docs/ipsec-protocol.md): SAs and policies from charon at run time");
  app.add_option("--sequence-file", sequence_path,
                 "where sequence numbers survive a restart of the fast path (tmpfs; needed for the plugin's replay)");
  app.add_option("--local", locals, "outer address for raw ESP (repeatable; default: any IPv4 and IPv6)");
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
  bool unsafe_null = false;
  app.add_flag("--unsafe-null-transform", unsafe_null,
               "accept ecb(cipher_null) SAs in the SA file: CLEARTEXT, for bench/run's ceiling only");
  CLI11_PARSE(app, argc, argv);

  if (sa_path.empty() && control_path.empty()) {
    std::fprintf(stderr, "ergw-fastpath: give --control SOCKET (SAs from charon) or --sa-file FILE (static SAs)\n");
    return 2;
  }
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

  ergw::xfrm::fastpath::SaFile file;
  if (!sa_path.empty()) {
    auto loaded = ergw::xfrm::fastpath::load_sa_file(sa_path, unsafe_null);
    if (!loaded.ok()) {
      std::fprintf(stderr, "ergw-fastpath: %s\n", loaded.error().c_str());
      return 2;
    }
    file = std::move(loaded).value();
    struct stat st {};
    if (::stat(sa_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      // The file holds keys: say so, but do not refuse (tests, containers).
      std::fprintf(stderr, "ergw-fastpath: warning: %s is readable by group/others (it holds keys; chmod 600)\n",
                   sa_path.c_str());
    }
    auto endpoints = ergw::xfrm::fastpath::static_endpoints(file);
    if (!endpoints.ok()) {
      std::fprintf(stderr, "ergw-fastpath: %s\n", endpoints.error().c_str());
      return 2;
    }
    options.endpoints = *endpoints;
  }
  if (!control_path.empty()) {
    // Raw ESP (protocol 50) for SAs charon negotiates without NAT; UDP 4500
    // is opened when the plugin reports charon's socket (share_ike_port).
    std::vector<ergw::IpAddress> addresses;
    for (const std::string& text : locals) {
      auto address = ergw::IpAddress::parse(text);
      if (!address) {
        std::fprintf(stderr, "ergw-fastpath: --local: not an IP address: %s\n", text.c_str());
        return 2;
      }
      addresses.push_back(*address);
    }
    if (addresses.empty()) addresses = {ergw::IpAddress(), *ergw::IpAddress::parse("::")};
    for (const ergw::IpAddress& a : addresses) {
      bool taken = false;
      for (const auto& ep : options.endpoints) {
        taken |= ep.kind == ergw::xfrm::io::OuterKind::raw_esp && ep.local.is_v4() == a.is_v4();
      }
      if (!taken) options.endpoints.push_back({ergw::xfrm::io::OuterKind::raw_esp, a, 0});
    }
  }
  if (mtu_text == "auto") {
    options.tun.mtu = ergw::xfrm::fastpath::inner_mtu_for(
        control_path.empty() ? ergw::xfrm::fastpath::static_overhead(file) : 0, outer_mtu);
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
  if (unsafe_null) {
    std::fprintf(stderr, "ergw-fastpath: WARNING: --unsafe-null-transform: SAs with ecb(cipher_null) carry "
                         "traffic unencrypted and unauthenticated (for measuring the I/O only)\n");
  }
  if (check_only) {
    print("ergw-fastpath: " + sa_path + ": " + std::to_string(file.sas.size()) + " SAs OK\n");
    return 0;
  }

  ergw::xfrm::fastpath::IpsecState state({10'000, sequence_path});
  if (!state.load_warning().empty()) print("ergw-fastpath: warning: " + state.load_warning() + "\n");
  ergw::xfrm::fastpath::SaLabels labels;
  if (ergw::Status s = ergw::xfrm::fastpath::install_static_sas(state, file, labels); !s.ok()) {
    std::fprintf(stderr, "ergw-fastpath: %s\n", s.error().c_str());
    return 2;
  }

  // Workers must not take the signals: block them before the threads start
  // (they inherit the mask), unblock them on this thread afterwards, where
  // Asio's signal_set handles them.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto created = Datapath::create(state, options);
  if (!created.ok()) {
    std::fprintf(stderr, "ergw-fastpath: %s\n", created.error().c_str());
    return 1;
  }
  Datapath& datapath = **created;

  asio::io_context io;
  ergw::xfrm::fastpath::ControlHandler handler(
      state, [&](uint8_t family, uint16_t port) { return datapath.share_ike_port(family, port); },
      [&] { return datapath.release_ike_ports(); },
      [](const std::string& line) { print("ergw-fastpath: " + line + "\n"); });
  std::unique_ptr<ergw::xfrm::fastpath::ControlServer> server;
  if (!control_path.empty()) {
    auto listening = ergw::xfrm::fastpath::ControlServer::create(io, control_path, handler);
    if (!listening.ok()) {
      std::fprintf(stderr, "ergw-fastpath: %s\n", listening.error().c_str());
      return 1;
    }
    server = std::move(listening).value();
  }

  std::string banner = "ergw-fastpath: " + std::to_string(file.sas.size()) + " static SAs" +
                       (control_path.empty() ? "" : ", control socket " + control_path) + ", tun mtu " +
                       std::to_string(options.tun.mtu) + "\n";
  for (const std::string& line : datapath.capability_report()) banner += "ergw-fastpath: " + line + "\n";
  for (const auto& sa : file.sas) {
    banner += "ergw-fastpath: sa " + sa.name + " dir=" +
              (sa.config.direction == ergw::xfrm::esp::Direction::outbound ? "out" : "in") + " " +
              ergw::xfrm::esp::to_string(sa.config.algorithm) + " " + sa.config.local.to_string() + " <-> " +
              sa.config.remote.to_string() +
              (sa.config.encapsulation == ergw::xfrm::esp::Encapsulation::udp ? " espinudp" : " esp") + "\n";
  }
  for (const std::string& line : datapath.start()) banner += "ergw-fastpath: " + line + "\n";
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  banner += "ergw-fastpath: running\n";
  print(banner);

  asio::signal_set signal_set(io, SIGTERM, SIGINT, SIGUSR1);
  signal_set.add(SIGHUP);  // ignored: no configuration to reload
  std::function<void()> wait_signal = [&] {
    signal_set.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGUSR1) {
        print(ergw::xfrm::fastpath::counters_report(datapath, state, labels));
      } else if (sig == SIGTERM || sig == SIGINT) {
        io.stop();
        return;
      }
      wait_signal();
    });
  };
  wait_signal();

  using Clock = std::chrono::steady_clock;
  Clock::time_point next_keepalive = Clock::now() + std::chrono::seconds(keepalive_seconds);
  asio::steady_timer timer(io);
  std::vector<ergw::xfrm::fastpath::ExpireEvent> expires;
  std::vector<ergw::xfrm::fastpath::MappingEvent> mappings;
  std::vector<uint32_t> collected;
  std::function<void()> tick = [&] {
    timer.expires_after(std::chrono::seconds(1));
    timer.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      const Clock::time_point now = Clock::now();
      expires.clear();
      mappings.clear();
      collected.clear();
      state.tick(now, expires, mappings, collected);
      for (uint32_t spi : collected) {
        print("ergw-fastpath: SA spi=" + hex32(spi) + " removed: hard-expired for 60 s and never deleted by charon\n");
      }
      for (const auto& e : expires) {
        // Soft -> charon rekeys; hard -> charon deletes (and re-creates) the
        // CHILD_SA. Without a subscriber (static SAs) a hard limit stops the SA.
        print("ergw-fastpath: SA spi=" + hex32(e.spi) + (e.hard ? " hard" : " soft") + " expire (" +
              cause_name(e.cause) + ")" +
              (server && server->clients() > 0 ? ": sent to charon\n"
                                               : (e.hard ? ": stopped; rekey by hand\n" : ": rekey soon\n")));
        if (server) server->broadcast(ergw::xfrm::fastpath::ControlHandler::expire_event(e));
      }
      for (const auto& m : mappings) {
        print("ergw-fastpath: SA spi=" + hex32(m.spi) + " peer moved to " + m.new_src.to_string() + ":" +
              std::to_string(m.new_port) + "\n");
        if (server) server->broadcast(ergw::xfrm::fastpath::ControlHandler::mapping_event(m));
      }
      if (keepalive_seconds != 0 && now >= next_keepalive) {
        datapath.send_nat_keepalives();
        next_keepalive = now + std::chrono::seconds(keepalive_seconds);
      }
      tick();
    });
  };
  tick();
  io.run();

  server.reset();
  datapath.stop();
  print(ergw::xfrm::fastpath::counters_report(datapath, state, labels));
  print("ergw-fastpath: stopped\n");
  return 0;
}
