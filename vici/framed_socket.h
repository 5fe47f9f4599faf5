// FramedSocket: one vici connection (a unix stream socket to charon) that reads
// segments continuously and writes queued packets in order. Every received packet,
// and the end of the connection, goes to the handlers given to start(). After
// close() no handler is called again, so the owner may be destroyed while
// operations are still pending (they keep this object alive, not the owner).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "common/result.h"
#include "vici/packet.h"

namespace ergw::vici {

class FramedSocket : public std::enable_shared_from_this<FramedSocket> {
 public:
  using PacketHandler = std::function<void(Packet)>;
  using CloseHandler = std::function<void(const std::string& reason)>;
  using ConnectHandler = std::function<void(const boost::system::error_code&)>;

  explicit FramedSocket(boost::asio::any_io_executor executor);
  ~FramedSocket();
  FramedSocket(const FramedSocket&) = delete;
  FramedSocket& operator=(const FramedSocket&) = delete;

  // Connects to a unix socket path (the filesystem path, without "unix://").
  void connect(const std::string& path, ConnectHandler handler);
  // Adopts an already connected socket (tests, socketpair).
  void adopt(boost::asio::local::stream_protocol::socket socket);
  // Begins the read loop; `on_close` is called once, with a reason, when the peer
  // closes, a read/write fails or a malformed segment arrives.
  void start(PacketHandler on_packet, CloseHandler on_close);
  // Queues a packet. An encoding error is returned and nothing is sent. With
  // `sensitive` the encoded bytes are overwritten once written (secrets).
  Status send(const Packet& packet, bool sensitive = false);
  // Queues an already encoded frame (length header included).
  Status send_encoded(std::string frame, bool sensitive = false);
  void close();
  bool is_open() const { return !closed_; }

 private:
  struct Outgoing {
    std::string bytes;
    bool sensitive;
  };
  void read_header();
  void read_body(std::size_t length);
  void write_next();
  void fail(const std::string& reason);

  boost::asio::local::stream_protocol::socket socket_;
  PacketHandler on_packet_;
  CloseHandler on_close_;
  std::array<uint8_t, kLengthHeaderSize> header_{};
  std::string body_;
  std::deque<Outgoing> outgoing_;
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace ergw::vici
