// Batched receive (recvmmsg) from an OuterSocket. With UDP_GRO one message may
// hold several datagrams of `segment_size` octets each (the last may be
// shorter); for_each_datagram() splits them again.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ergw::xfrm::io {

class RecvBatch {
 public:
  // `slot_bytes` must hold the largest coalesced message: 64 KB with GRO.
  RecvBatch(size_t slots, size_t slot_bytes);
  RecvBatch(const RecvBatch&) = delete;
  RecvBatch& operator=(const RecvBatch&) = delete;

  // Receives without blocking. Returns messages received, 0 if none, -errno.
  int receive(int fd);

  size_t count() const { return count_; }
  std::span<uint8_t> message(size_t index);
  const sockaddr_storage& source(size_t index) const { return sources_[index]; }
  // GRO segment size, or 0 when the message is a single datagram.
  uint16_t segment_size(size_t index) const { return segment_sizes_[index]; }
  bool truncated(size_t index) const { return (headers_[index].msg_hdr.msg_flags & MSG_TRUNC) != 0; }

  // Calls fn(std::span<uint8_t>) for each datagram of message `index`; an
  // empty datagram is passed as an empty span, so that it is counted too.
  template <typename Fn>
  void for_each_datagram(size_t index, Fn&& fn) {
    std::span<uint8_t> data = message(index);
    if (data.empty()) {
      fn(data);
      return;
    }
    const size_t step = segment_size(index) ? segment_size(index) : data.size();
    for (size_t offset = 0; offset < data.size(); offset += step) {
      fn(data.subspan(offset, std::min(step, data.size() - offset)));
    }
  }

 private:
  static constexpr size_t kControlBytes = 64;
  size_t slot_bytes_;
  size_t count_ = 0;
  std::vector<uint8_t> buffers_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_storage> sources_;
  std::vector<uint8_t> control_;
  std::vector<uint16_t> segment_sizes_;
};

}  // namespace ergw::xfrm::io
