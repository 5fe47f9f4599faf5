// ergw-fastpath: the userspace ESP fast path as a daemon (docs/fastpath.md).
// Moves packets TUN -> ESP -> UDP/raw and back, with SAs installed at run time
// over its control socket (by charon through the ergw-ipsec plugin), or once
// from a static SA file.
//
//   ergw-fastpath --control /run/ergw/fastpath.sock --tun ergw0 [--sequence-file F]
//   ergw-fastpath --sa-file sas.json --tun ergw0 [--queues N] [--no-offload]
//
// SIGUSR1 prints the counters; SIGTERM/SIGINT stop cleanly (counters printed).
//
// main() is the steps in order: read the command line, load the static SAs,
// choose the sockets and the TUN MTU, build the state and the data path, open
// the control socket, start the workers, then run the control loop (signals,
// and once a second lifetimes, expires, NAT mappings and keepalives).
#include <CLI/CLI.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "xfrm/fastpath/control_handler.h"
#include "xfrm/fastpath/control_server.h"
#include "xfrm/fastpath/counters_report.h"
#include "xfrm/fastpath/cpu_list.h"
#include "xfrm/fastpath/datapath.h"
#include "xfrm/fastpath/ipsec_state.h"
#include "xfrm/fastpath/sa_file.h"
#include "xfrm/fastpath/spi_text.h"
#include "xfrm/fastpath/static_sas.h"

namespace {

namespace asio = boost::asio;
namespace fp = ergw::xfrm::fastpath;
using fp::Datapath;
using fp::hex32;

void print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// A start-up failure: the message for stderr and the exit status (2: bad
// input, 1: the system refused).
struct Failure {
  std::string message;
  int exit_code = 2;
};

const char* cause_name(ergw::xfrm::esp::ExpireCause cause) {
  switch (cause) {
    case ergw::xfrm::esp::ExpireCause::bytes: return "bytes";
    case ergw::xfrm::esp::ExpireCause::packets: return "packets";
    case ergw::xfrm::esp::ExpireCause::seconds: return "seconds";
    case ergw::xfrm::esp::ExpireCause::sequence: return "sequence";
  }
  return "?";
}

// Everything the command line says.
struct Settings {
  std::string sa_path, control_path, sequence_path;
  std::vector<std::string> locals;
  fp::DatapathOptions options;
  bool no_offload = false, no_tun_offload = false, no_udp_gso = false, no_udp_gro = false, check_only = false;
  bool unsafe_null = false;
  unsigned keepalive_seconds = 20;
  int outer_mtu = 1500;
  std::string mtu_text = "auto";
  std::string cpus_text;
};

void add_options(CLI::App& app, Settings& s) {
  app.add_option("--sa-file", s.sa_path, "static SA file (JSON, docs/fastpath.md)");
  app.add_option("--control", s.control_path,
                 "control socket (unix, docs/ipsec-protocol.md): SAs and policies from charon at run time");
  app.add_option("--sequence-file", s.sequence_path,
                 "where sequence numbers survive a restart of the fast path (tmpfs; needed for the plugin's replay)");
  app.add_option("--local", s.locals, "outer address for raw ESP (repeatable; default: any IPv4 and IPv6)");
  app.add_option("--tun", s.options.tun.name, "TUN device name (created if absent)")->capture_default_str();
  app.add_option("--mtu", s.mtu_text, "TUN MTU: a number, or auto (= outer MTU minus the worst ESP overhead)")
      ->capture_default_str();
  app.add_option("--outer-mtu", s.outer_mtu, "MTU of the outer path, for --mtu auto")->capture_default_str();
  app.add_option("--queues", s.options.tun.queues, "TUN queues; two worker threads each")->default_val(1);
  app.add_option("--keepalive", s.keepalive_seconds, "RFC 3948 NAT-keepalive interval in seconds, 0 = off")
      ->capture_default_str();
  app.add_option("--cpus", s.cpus_text,
                 "pin the worker threads round-robin to these CPUs (e.g. 0 or 0-1,4; default: not pinned)");
  app.add_flag("--no-offload", s.no_offload, "plain I/O: no TUN offloads, no UDP GSO/GRO");
  app.add_flag("--no-tun-offload", s.no_tun_offload, "no IFF_VNET_HDR/TUNSETOFFLOAD");
  app.add_flag("--no-udp-gso", s.no_udp_gso, "no UDP_SEGMENT");
  app.add_flag("--no-udp-gro", s.no_udp_gro, "no UDP_GRO");
  app.add_flag("--check", s.check_only, "validate the SA file and exit");
  app.add_flag("--unsafe-null-transform", s.unsafe_null,
               "accept ecb(cipher_null) SAs in the SA file: CLEARTEXT, for bench/run's ceiling only");
}

// Offloads and worker placement from the flags.
std::optional<Failure> apply_io_flags(Settings& s) {
  s.options.tun.offload = !(s.no_offload || s.no_tun_offload);
  s.options.udp_gso = !(s.no_offload || s.no_udp_gso);
  s.options.udp_gro = !(s.no_offload || s.no_udp_gro);
  if (s.cpus_text.empty()) return std::nullopt;
  auto cpus = fp::parse_cpu_list(s.cpus_text);
  if (!cpus) return Failure{"--cpus: not a CPU list (e.g. 0, 0,1 or 0-3): " + s.cpus_text};
  s.options.cpus = std::move(*cpus);
  return std::nullopt;
}

// The static SA file, checked, and the sockets its SAs need.
std::optional<Failure> load_static_sas(Settings& s, fp::SaFile& file) {
  if (s.sa_path.empty()) return std::nullopt;
  auto loaded = fp::load_sa_file(s.sa_path, s.unsafe_null);
  if (!loaded.ok()) return Failure{loaded.error()};
  file = std::move(loaded).value();
  struct stat st {};
  if (::stat(s.sa_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    // The file holds keys: say so, but do not refuse (tests, containers).
    std::fprintf(stderr, "ergw-fastpath: warning: %s is readable by group/others (it holds keys; chmod 600)\n",
                 s.sa_path.c_str());
  }
  auto endpoints = fp::static_endpoints(file);
  if (!endpoints.ok()) return Failure{endpoints.error()};
  s.options.endpoints = *endpoints;
  return std::nullopt;
}

// Under IKE: raw ESP (protocol 50) sockets for SAs charon negotiates without
// NAT; UDP 4500 is opened when the plugin reports charon's socket
// (share_ike_port).
std::optional<Failure> add_control_endpoints(Settings& s) {
  if (s.control_path.empty()) return std::nullopt;
  std::vector<ergw::IpAddress> addresses;
  for (const std::string& text : s.locals) {
    auto address = ergw::IpAddress::parse(text);
    if (!address) return Failure{"--local: not an IP address: " + text};
    addresses.push_back(*address);
  }
  if (addresses.empty()) addresses = {ergw::IpAddress(), *ergw::IpAddress::parse("::")};
  for (const ergw::IpAddress& a : addresses) {
    bool taken = false;
    for (const auto& ep : s.options.endpoints) {
      taken |= ep.kind == ergw::xfrm::io::OuterKind::raw_esp && ep.local.is_v4() == a.is_v4();
    }
    if (!taken) s.options.endpoints.push_back({ergw::xfrm::io::OuterKind::raw_esp, a, 0});
  }
  return std::nullopt;
}

std::optional<Failure> choose_tun_mtu(Settings& s, const fp::SaFile& file) {
  if (s.mtu_text == "auto") {
    s.options.tun.mtu = fp::inner_mtu_for(s.control_path.empty() ? fp::static_overhead(file) : 0, s.outer_mtu);
    return std::nullopt;
  }
  try {
    s.options.tun.mtu = std::stoi(s.mtu_text);
  } catch (const std::exception&) {
    s.options.tun.mtu = -1;
  }
  if (s.options.tun.mtu < 68 || s.options.tun.mtu > 65535) return Failure{"--mtu must be auto or 68-65535"};
  return std::nullopt;
}

// What ran, for the log: SAs, control socket, TUN MTU, what the kernel
// offered, where each worker runs.
std::string start_banner(const Settings& s, const fp::SaFile& file, Datapath& datapath) {
  std::string banner = "ergw-fastpath: " + std::to_string(file.sas.size()) + " static SAs" +
                       (s.control_path.empty() ? "" : ", control socket " + s.control_path) + ", tun mtu " +
                       std::to_string(s.options.tun.mtu) + "\n";
  for (const std::string& line : datapath.capability_report()) banner += "ergw-fastpath: " + line + "\n";
  for (const auto& sa : file.sas) {
    banner += "ergw-fastpath: sa " + sa.name + " dir=" +
              (sa.config.direction == ergw::xfrm::esp::Direction::outbound ? "out" : "in") + " " +
              ergw::xfrm::esp::to_string(sa.config.algorithm) + " " + sa.config.local.to_string() + " <-> " +
              sa.config.remote.to_string() +
              (sa.config.encapsulation == ergw::xfrm::esp::Encapsulation::udp ? " espinudp" : " esp") + "\n";
  }
  return banner;
}

// The control thread's loop: signals, and once a second the state's tick
// (lifetimes -> EXPIRE events to charon, NAT mappings, SAs charon never
// deleted) and NAT-keepalives. Returns when SIGTERM/SIGINT arrive.
class ControlLoop {
 public:
  ControlLoop(asio::io_context& io, fp::IpsecState& state, Datapath& datapath, fp::ControlServer* server,
              const fp::SaLabels& labels, unsigned keepalive_seconds)
      : io_(io),
        state_(state),
        datapath_(datapath),
        server_(server),
        labels_(labels),
        keepalive_(keepalive_seconds),
        signals_(io, SIGTERM, SIGINT, SIGUSR1),
        timer_(io) {
    signals_.add(SIGHUP);  // ignored: no configuration to reload
  }

  void run() {
    next_keepalive_ = Clock::now() + keepalive_;
    wait_signal();
    tick();
    io_.run();
  }

 private:
  using Clock = std::chrono::steady_clock;

  void wait_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGUSR1) {
        print(fp::counters_report(datapath_, state_, labels_));
      } else if (sig == SIGTERM || sig == SIGINT) {
        io_.stop();
        return;
      }
      wait_signal();
    });
  }

  void tick() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      const Clock::time_point now = Clock::now();
      expires_.clear();
      mappings_.clear();
      collected_.clear();
      state_.tick(now, expires_, mappings_, collected_);
      report_collected();
      send_expires();
      send_mappings();
      if (keepalive_.count() != 0 && now >= next_keepalive_) {
        datapath_.send_nat_keepalives();
        next_keepalive_ = now + keepalive_;
      }
      tick();
    });
  }

  void report_collected() {
    for (uint32_t spi : collected_) {
      print("ergw-fastpath: SA spi=" + hex32(spi) + " removed: hard-expired for 60 s and never deleted by charon\n");
    }
  }

  // Soft -> charon rekeys; hard -> charon deletes (and re-creates) the
  // CHILD_SA. Without a subscriber (static SAs) a hard limit stops the SA.
  void send_expires() {
    for (const auto& e : expires_) {
      print("ergw-fastpath: SA spi=" + hex32(e.spi) + (e.hard ? " hard" : " soft") + " expire (" +
            cause_name(e.cause) + ")" +
            (server_ && server_->clients() > 0 ? ": sent to charon\n"
                                               : (e.hard ? ": stopped; rekey by hand\n" : ": rekey soon\n")));
      if (server_) server_->broadcast(fp::ControlHandler::expire_event(e));
    }
  }

  void send_mappings() {
    for (const auto& m : mappings_) {
      print("ergw-fastpath: SA spi=" + hex32(m.spi) + " peer moved to " + m.new_src.to_string() + ":" +
            std::to_string(m.new_port) + "\n");
      if (server_) server_->broadcast(fp::ControlHandler::mapping_event(m));
    }
  }

  asio::io_context& io_;
  fp::IpsecState& state_;
  Datapath& datapath_;
  fp::ControlServer* server_;
  const fp::SaLabels& labels_;
  const std::chrono::seconds keepalive_;
  asio::signal_set signals_;
  asio::steady_timer timer_;
  Clock::time_point next_keepalive_;
  std::vector<fp::ExpireEvent> expires_;
  std::vector<fp::MappingEvent> mappings_;
  std::vector<uint32_t> collected_;
};

int fail(const Failure& f) {
  std::fprintf(stderr, "ergw-fastpath: %s\n", f.message.c_str());
  return f.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ergw-fastpath: userspace ESP fast path; SAs from charon (ergw-ipsec plugin) or a static file"};
  Settings settings;
  add_options(app, settings);
  CLI11_PARSE(app, argc, argv);

  if (settings.sa_path.empty() && settings.control_path.empty()) {
    return fail({"give --control SOCKET (SAs from charon) or --sa-file FILE (static SAs)"});
  }
  fp::SaFile file;
  if (auto f = apply_io_flags(settings)) return fail(*f);
  if (auto f = load_static_sas(settings, file)) return fail(*f);
  if (auto f = add_control_endpoints(settings)) return fail(*f);
  if (auto f = choose_tun_mtu(settings, file)) return fail(*f);
  if (settings.unsafe_null) {
    std::fprintf(stderr, "ergw-fastpath: WARNING: --unsafe-null-transform: SAs with ecb(cipher_null) carry "
                         "traffic unencrypted and unauthenticated (for measuring the I/O only)\n");
  }
  if (settings.check_only) {
    print("ergw-fastpath: " + settings.sa_path + ": " + std::to_string(file.sas.size()) + " SAs OK\n");
    return 0;
  }

  fp::IpsecState state({10'000, settings.sequence_path});
  if (!state.load_warning().empty()) print("ergw-fastpath: warning: " + state.load_warning() + "\n");
  fp::SaLabels labels;
  if (ergw::Status s = fp::install_static_sas(state, file, labels); !s.ok()) return fail({s.error()});

  // Workers must not take the signals: block them before the threads start
  // (they inherit the mask), unblock them on this thread afterwards, where
  // Asio's signal_set handles them.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto created = Datapath::create(state, settings.options);
  if (!created.ok()) return fail({created.error(), 1});
  Datapath& datapath = **created;

  asio::io_context io;
  fp::ControlHandler handler(
      state, [&](uint8_t family, uint16_t port) { return datapath.share_ike_port(family, port); },
      [&] { return datapath.release_ike_ports(); },
      [](const std::string& line) { print("ergw-fastpath: " + line + "\n"); });
  std::unique_ptr<fp::ControlServer> server;
  if (!settings.control_path.empty()) {
    auto listening = fp::ControlServer::create(io, settings.control_path, handler);
    if (!listening.ok()) return fail({listening.error(), 1});
    server = std::move(listening).value();
  }

  std::string banner = start_banner(settings, file, datapath);
  for (const std::string& line : datapath.start()) banner += "ergw-fastpath: " + line + "\n";
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  print(banner + "ergw-fastpath: running\n");

  ControlLoop(io, state, datapath, server.get(), labels, settings.keepalive_seconds).run();

  server.reset();
  datapath.stop();
  print(fp::counters_report(datapath, state, labels));
  print("ergw-fastpath: stopped\n");
  return 0;
}
