#include "xfrm/io/send_batch.h"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <cerrno>
#include <cstring>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace ergw::xfrm::io {
namespace {
constexpr size_t kControlBytes = CMSG_SPACE(sizeof(uint16_t));
}

SendBatch::SendBatch(size_t max_messages)
    : entries_(max_messages), headers_(max_messages), iovecs_(max_messages),
      control_(max_messages * kControlBytes) {}

bool SendBatch::add(OuterSocket& socket, const SocketAddress& destination, const uint8_t* data, size_t length) {
  if (count_ > 0) {
    Entry& last = entries_[count_ - 1];
    const bool mergeable = socket.gso_enabled() && last.socket == &socket && !last.closed &&
                           last.destination == &destination && last.data + last.length == data &&
                           length <= last.segment && last.segments < kMaxSegments &&
                           last.length + length <= kMaxTrainBytes;
    if (mergeable) {
      last.length += length;
      last.segments += 1;
      last.closed = length < last.segment;
      return true;
    }
  }
  if (full()) return false;
  entries_[count_++] = Entry{&socket, &destination, data, length, length, 1, false};
  return true;
}

SendStats SendBatch::flush() {
  SendStats stats;
  size_t begin = 0;
  while (begin < count_) {
    size_t end = begin + 1;
    while (end < count_ && entries_[end].socket == entries_[begin].socket) ++end;
    send_run(begin, end, stats);
    begin = end;
  }
  count_ = 0;
  return stats;
}

void SendBatch::send_run(size_t begin, size_t end, SendStats& stats) {
  OuterSocket& socket = *entries_[begin].socket;
  const size_t n = end - begin;
  for (size_t i = 0; i < n; ++i) {
    const Entry& entry = entries_[begin + i];
    iovecs_[i] = {const_cast<uint8_t*>(entry.data), entry.length};
    msghdr& msg = headers_[i].msg_hdr;
    msg = msghdr{};
    msg.msg_name = const_cast<sockaddr_storage*>(&entry.destination->storage);
    msg.msg_namelen = entry.destination->length;
    msg.msg_iov = &iovecs_[i];
    msg.msg_iovlen = 1;
    if (entry.segments > 1) {
      uint8_t* control = control_.data() + i * kControlBytes;
      std::memset(control, 0, kControlBytes);
      msg.msg_control = control;
      msg.msg_controllen = kControlBytes;
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const uint16_t segment = static_cast<uint16_t>(entry.segment);
      std::memcpy(CMSG_DATA(c), &segment, sizeof(segment));
    }
  }
  size_t sent = 0;
  while (sent < n) {
    int r = ::sendmmsg(socket.fd(), headers_.data() + sent, static_cast<unsigned>(n - sent), 0);
    if (r > 0) {
      for (size_t i = sent; i < sent + static_cast<size_t>(r); ++i) {
        stats.datagrams += entries_[begin + i].segments;
        stats.messages += 1;
      }
      sent += static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    const Entry& failed = entries_[begin + sent];
    if (r < 0 && errno == EIO && failed.segments > 1) {
      // The egress device cannot checksum segmented trains: give up GSO on
      // this socket for good and send the rest of this train one by one.
      if (socket.gso_enabled()) stats.gso_fallbacks += 1;
      socket.disable_gso();
      send_one_by_one(failed, stats);
    } else {
      stats.errors += failed.segments;
    }
    sent += 1;  // skip the message the kernel refused and carry on
  }
}

void SendBatch::send_one_by_one(const Entry& entry, SendStats& stats) {
  for (size_t offset = 0; offset < entry.length; offset += entry.segment) {
    const size_t len = std::min(entry.segment, entry.length - offset);
    ssize_t r;
    do {
      r = ::sendto(entry.socket->fd(), entry.data + offset, len, 0,
                   reinterpret_cast<const sockaddr*>(&entry.destination->storage), entry.destination->length);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      stats.errors += 1;
    } else {
      stats.datagrams += 1;
      stats.messages += 1;
    }
  }
}

}  // namespace ergw::xfrm::io
