// The fast path's workers: TUN -> encapsulate -> UDP/raw socket, and
// UDP/raw socket -> decapsulate -> TUN.
//
// Threads: each TUN queue q (IFF_MULTI_QUEUE) has one outbound thread reading
// that queue and one inbound thread reading queue q's outer sockets (UDP
// sockets are opened once per queue with SO_REUSEPORT; raw ESP sockets are
// shared and read by queue 0 only, because every raw socket receives a copy of
// every packet). Several threads may use the same SA at once; the engine makes
// that safe (docs/fastpath.md "Several cores, one SA").
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "xfrm/esp/sa_table.h"
#include "xfrm/fastpath/io_counters.h"
#include "xfrm/fastpath/prefix_match.h"
#include "xfrm/fastpath/sa_file.h"
#include "xfrm/io/outer_socket.h"
#include "xfrm/io/socket_address.h"
#include "xfrm/io/tun_device.h"

namespace ergw::xfrm::fastpath {

struct DatapathOptions {
  io::TunOptions tun;
  bool udp_gso = true;
  bool udp_gro = true;
  // Worker placement: worker k (start order out0, in0, out1, in1, ...) is
  // pinned to cpus[k % size]. Empty = the scheduler decides.
  std::vector<int> cpus;
};

// The largest inner MTU whose packets, after ESP (worst-case padding) and the
// outer IP/UDP headers, still fit `outer_mtu` for every outbound SA.
int inner_mtu_for(const SaFile& file, int outer_mtu);

class Datapath {
 public:
  // Installs the SAs, opens the TUN device and the outer sockets.
  static Result<std::unique_ptr<Datapath>> create(const SaFile& file, const DatapathOptions& options);
  ~Datapath();

  // What the kernel offered, one line per device/socket, for the start-up report.
  std::vector<std::string> capability_report() const;

  // Starts the workers; returns one line per worker saying where it runs
  // (or why it could not be pinned).
  std::vector<std::string> start();
  // Stops and joins the workers; idempotent.
  void stop();

  esp::SaTable& table() { return table_; }
  const SaFile& sa_file() const { return file_; }
  const std::vector<esp::SaId>& sa_ids() const { return sa_ids_; }  // parallel to sa_file().sas
  // Totals over all workers.
  std::array<uint64_t, kIoCounterCount> io_counters() const;

  // Sends one RFC 3948 §2.3 NAT-keepalive to the peer of every outbound
  // ESP-in-UDP SA (called by the main thread on a timer).
  void send_nat_keepalives();

 private:
  struct Endpoint;     // one local outer address/port/kind
  struct OutRoute;     // outbound SA + where its packets go
  struct InPolicy;     // inbound SA checks after decryption
  struct Queue;        // per TUN queue: sockets + counters

  Datapath() = default;
  void run_outbound(size_t queue);
  void run_inbound(size_t queue);
  const OutRoute* route(const uint8_t* packet, size_t length) const;

  SaFile file_;
  std::vector<int> cpus_;
  esp::SaTable table_;
  std::vector<esp::SaId> sa_ids_;
  std::vector<Endpoint> endpoints_;
  std::vector<OutRoute> routes_;
  std::vector<InPolicy> in_policies_;  // indexed by SaId
  std::unique_ptr<io::TunDevice> tun_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::vector<std::unique_ptr<io::OuterSocket>> raw_sockets_;  // shared; index by endpoint
  int stop_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace ergw::xfrm::fastpath
