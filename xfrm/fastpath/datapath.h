// The fast path's workers: TUN -> encapsulate -> UDP/raw socket, and
// UDP/raw socket -> decapsulate -> TUN, with SAs, policies and routes from an
// IpsecState (installed at run time by charon through the ergw-ipsec plugin,
// or once from a static SA file).
//
// Threads: each TUN queue q (IFF_MULTI_QUEUE) has one outbound thread reading
// that queue and one inbound thread reading queue q's outer sockets. Raw ESP
// sockets are shared and read by queue 0 only, because every raw socket
// receives a copy of every packet. UDP sockets are per queue (SO_REUSEPORT)
// with static SAs; shared with charon (one socket, read by queue 0) under IKE.
// Several threads may use the same SA at once; the engine makes that safe
// (docs/fastpath.md "Several cores, one SA").
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "xfrm/fastpath/io_counters.h"
#include "xfrm/fastpath/ipsec_state.h"
#include "xfrm/io/outer_socket.h"
#include "xfrm/io/socket_address.h"
#include "xfrm/io/tun_device.h"

namespace ergw::xfrm::fastpath {

struct OuterEndpoint {
  io::OuterKind kind = io::OuterKind::udp;
  IpAddress local;      // wildcard (0.0.0.0 / ::) allowed
  uint16_t port = 4500;  // udp only
};

struct DatapathOptions {
  io::TunOptions tun;
  bool udp_gso = true;
  bool udp_gro = true;
  // Worker placement: worker k (start order out0, in0, out1, in1, ...) is
  // pinned to cpus[k % size]. Empty = the scheduler decides.
  std::vector<int> cpus;
  // Sockets opened at start (at most one per kind and family).
  std::vector<OuterEndpoint> endpoints;
};

// The largest inner MTU whose packets, after ESP with `overhead` octets
// (0 = assume the worst carried transform over IPv6 and UDP), still fit `outer_mtu`.
int inner_mtu_for(size_t overhead, int outer_mtu);

class Datapath {
 public:
  // Opens the TUN device and the start-up sockets. `state` must outlive it.
  static Result<std::unique_ptr<Datapath>> create(IpsecState& state, const DatapathOptions& options);
  ~Datapath();

  // What the kernel offered, one line per device/socket, for the start-up report.
  std::vector<std::string> capability_report() const;

  // Starts the workers; returns one line per worker saying where it runs
  // (or why it could not be pinned).
  std::vector<std::string> start();
  // Stops and joins the workers; idempotent.
  void stop();

  // Under IKE: charon's NAT-T socket for `family` (4/6) is bound to `port`
  // with SO_REUSEPORT; (re)open ours in its group with the IKE steering
  // program, so ESP-in-UDP reaches us and IKE reaches charon. Called by the
  // control thread; the inbound worker picks the socket up at once.
  Result<std::string> share_ike_port(uint8_t family, uint16_t port);
  // A charon is starting and must bind the NAT-T port itself (it sets no
  // SO_REUSEADDR/SO_REUSEPORT before binding): leave it until share_ike_port.
  std::string release_ike_ports();

  // Totals over all workers.
  std::array<uint64_t, kIoCounterCount> io_counters() const;

  // Sends one RFC 3948 §2.3 NAT-keepalive to the peer of every outbound
  // ESP-in-UDP SA (called by the control thread on a timer).
  void send_nat_keepalives();

 private:
  // Socket slot: (udp ? 2 : 0) + (v6 ? 1 : 0).
  static constexpr size_t kSlots = 4;
  static size_t slot_of(bool udp, bool v6) { return (udp ? 2 : 0) + (v6 ? 1 : 0); }
  struct Queue {
    std::array<std::atomic<io::OuterSocket*>, kSlots> sockets{};
    std::atomic<bool> reads_udp{true};
    SharedIoCounters counters;
  };

  // One inbound worker's loop and state (datapath.cc).
  class InboundWorker;

  explicit Datapath(IpsecState& state) : state_(state) {}
  void run_outbound(size_t queue);
  void run_inbound(size_t queue);
  io::OuterSocket* keep(io::OuterSocket socket);
  // Tells queue 0's inbound worker to rescan its sockets and waits (at most
  // a second) until it did.
  void rescan_and_wait();
  Status retire_udp_slot(size_t slot);

  IpsecState& state_;
  DatapathOptions options_;
  std::unique_ptr<io::TunDevice> tun_;
  std::vector<std::unique_ptr<Queue>> queues_;
  // Every socket ever opened lives until the Datapath goes: a worker may still
  // hold a pointer to one that share_ike_port replaced.
  std::mutex sockets_mutex_;
  std::vector<std::unique_ptr<io::OuterSocket>> sockets_;
  std::vector<std::string> socket_report_;
  int stop_fd_ = -1;
  int rescan_fd_ = -1;  // tells queue 0's inbound worker the socket set changed
  // Rescans asked for, and the last one queue 0's inbound worker finished:
  // a socket is let go only once no worker polls it any more.
  std::atomic<uint64_t> rescans_requested_{0};
  std::atomic<uint64_t> rescans_done_{0};
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace ergw::xfrm::fastpath
