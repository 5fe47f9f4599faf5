#include "xfrm/io/recv_batch.h"

#include <netinet/udp.h>

#include <cerrno>
#include <cstring>

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace ergw::xfrm::io {

RecvBatch::RecvBatch(size_t slots, size_t slot_bytes)
    : slot_bytes_(slot_bytes),
      buffers_(slots * slot_bytes),
      headers_(slots),
      iovecs_(slots),
      sources_(slots),
      control_(slots * kControlBytes),
      segment_sizes_(slots) {}

int RecvBatch::receive(int fd) {
  const size_t slots = headers_.size();
  for (size_t i = 0; i < slots; ++i) {
    iovecs_[i] = {buffers_.data() + i * slot_bytes_, slot_bytes_};
    msghdr& msg = headers_[i].msg_hdr;
    msg = msghdr{};
    msg.msg_name = &sources_[i];
    msg.msg_namelen = sizeof(sockaddr_storage);
    msg.msg_iov = &iovecs_[i];
    msg.msg_iovlen = 1;
    msg.msg_control = control_.data() + i * kControlBytes;
    msg.msg_controllen = kControlBytes;
    headers_[i].msg_len = 0;
  }
  count_ = 0;
  int n;
  do {
    n = ::recvmmsg(fd, headers_.data(), static_cast<unsigned>(slots), MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  count_ = static_cast<size_t>(n);
  for (size_t i = 0; i < count_; ++i) {
    segment_sizes_[i] = 0;
    msghdr& msg = headers_[i].msg_hdr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(c), sizeof(size));
        segment_sizes_[i] = static_cast<uint16_t>(size);
      }
    }
  }
  return n;
}

std::span<uint8_t> RecvBatch::message(size_t index) {
  return {buffers_.data() + index * slot_bytes_, headers_[index].msg_len};
}

}  // namespace ergw::xfrm::io
