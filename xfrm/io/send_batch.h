// Batched send (sendmmsg) of ESP payloads to OuterSockets.
//
// Consecutive datagrams for the same socket and destination that lie back to
// back in memory with equal lengths (the last may be shorter) are merged into
// one message carrying UDP_SEGMENT: the kernel then cuts the train into
// datagrams after a single trip through the stack (Linux 4.18 UDP GSO). A TSO
// packet from the TUN device, segmented and encrypted, becomes exactly such a
// train. Raw ESP sockets have no GSO and get one message per datagram.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "xfrm/io/outer_socket.h"
#include "xfrm/io/socket_address.h"

namespace ergw::xfrm::io {

struct SendStats {
  uint64_t datagrams = 0;     // datagrams handed to the kernel
  uint64_t messages = 0;      // sendmmsg entries (a GSO train counts once)
  uint64_t errors = 0;        // datagrams the kernel refused
  uint64_t gso_fallbacks = 0; // sockets that lost GSO to EIO in this flush
};

class SendBatch {
 public:
  // The kernel's UDP_MAX_SEGMENTS was 64 before Linux 6.9 (then 128).
  static constexpr size_t kMaxSegments = 64;
  // A GSO train must fit one UDP datagram's length field, IP header included.
  static constexpr size_t kMaxTrainBytes = 65000;

  explicit SendBatch(size_t max_messages);

  // Queues `length` octets at `data` (which must stay valid until flush) for
  // `destination` (which too). Returns false when the batch is full: flush first.
  bool add(OuterSocket& socket, const SocketAddress& destination, const uint8_t* data, size_t length);
  bool empty() const { return count_ == 0; }
  bool full() const { return count_ == entries_.size(); }

  SendStats flush();

 private:
  struct Entry {
    OuterSocket* socket;
    const SocketAddress* destination;
    const uint8_t* data;
    size_t length;
    size_t segment;   // length of each datagram in the train
    size_t segments;
    bool closed;      // the last datagram was shorter: nothing may follow
  };

  void send_run(size_t begin, size_t end, SendStats& stats);
  void send_one_by_one(const Entry& entry, SendStats& stats);

  std::vector<Entry> entries_;
  size_t count_ = 0;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> iovecs_;
  std::vector<uint8_t> control_;
};

}  // namespace ergw::xfrm::io
