// UDP batching over loopback: GSO trains leave as separate datagrams of the
// right sizes, whether the receiver coalesces them (GRO) or not.
#include "xfrm/io/send_batch.h"

#include <gtest/gtest.h>

#include <poll.h>

#include <vector>

#include "xfrm/io/outer_socket.h"
#include "xfrm/io/recv_batch.h"

namespace ergw::xfrm::io {
namespace {

OuterSocket open_loopback(bool gro) {
  OuterSocketOptions options;
  options.local = *IpAddress::parse("127.0.0.1");
  options.port = 0;
  options.gro = gro;
  options.buffer_bytes = 1 << 20;
  Result<OuterSocket> sock = OuterSocket::open(options);
  if (!sock.ok()) ADD_FAILURE() << sock.error();
  return std::move(sock).value();
}

std::vector<size_t> receive_all(OuterSocket& sock, size_t expected) {
  RecvBatch batch(16, 65536);
  std::vector<size_t> sizes;
  while (sizes.size() < expected) {
    pollfd pfd{sock.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 2000) <= 0) break;
    int n = batch.receive(sock.fd());
    if (n < 0) break;
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      batch.for_each_datagram(i, [&](std::span<uint8_t> d) { sizes.push_back(d.size()); });
    }
  }
  return sizes;
}

class UdpBatch : public ::testing::TestWithParam<bool> {};

TEST_P(UdpBatch, TrainOfEqualSegmentsPlusShortTail) {
  OuterSocket receiver = open_loopback(GetParam());
  OuterSocket sender = open_loopback(false);
  const SocketAddress to = SocketAddress::from(*IpAddress::parse("127.0.0.1"), receiver.local_port());

  std::vector<uint8_t> arena(10 * 1000);
  SendBatch batch(8);
  // Five 1000-byte datagrams back to back, then a 300-byte tail: one message
  // when GSO is available.
  for (size_t i = 0; i < 5; ++i) ASSERT_TRUE(batch.add(sender, to, arena.data() + i * 1000, 1000));
  ASSERT_TRUE(batch.add(sender, to, arena.data() + 5000, 300));
  // Not contiguous with the tail, and after a short datagram: a new message.
  ASSERT_TRUE(batch.add(sender, to, arena.data() + 7000, 300));
  SendStats stats = batch.flush();
  EXPECT_EQ(stats.datagrams, 7u);
  EXPECT_EQ(stats.errors, 0u);
  if (sender.gso_enabled()) {
    EXPECT_EQ(stats.messages, 2u);
  } else {
    EXPECT_EQ(stats.messages, 7u);
  }
  std::vector<size_t> sizes = receive_all(receiver, 7);
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 1000, 1000, 1000, 300, 300}));
}

INSTANTIATE_TEST_SUITE_P(GroOnOff, UdpBatch, ::testing::Bool());

TEST(SendBatch, StopsMergingAtTheSegmentLimit) {
  OuterSocket receiver = open_loopback(false);
  OuterSocket sender = open_loopback(false);
  if (!sender.gso_enabled()) GTEST_SKIP() << "kernel lacks UDP_SEGMENT: " << sender.capabilities().describe();
  const SocketAddress to = SocketAddress::from(*IpAddress::parse("127.0.0.1"), receiver.local_port());
  std::vector<uint8_t> arena(100 * 100);
  SendBatch batch(4);
  for (size_t i = 0; i < 100; ++i) ASSERT_TRUE(batch.add(sender, to, arena.data() + i * 100, 100));
  SendStats stats = batch.flush();
  EXPECT_EQ(stats.datagrams, 100u);
  EXPECT_EQ(stats.messages, 2u);  // 64 + 36
  EXPECT_EQ(receive_all(receiver, 100).size(), 100u);
}

}  // namespace
}  // namespace ergw::xfrm::io
