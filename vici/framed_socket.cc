#include "vici/framed_socket.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "common/secret.h"

namespace ergw::vici {

namespace asio = boost::asio;
using boost::system::error_code;

FramedSocket::FramedSocket(asio::any_io_executor executor) : socket_(std::move(executor)) {}

FramedSocket::~FramedSocket() {
  for (Outgoing& out : outgoing_) {
    if (out.sensitive) wipe(out.bytes);
  }
}

void FramedSocket::connect(const std::string& path, ConnectHandler handler) {
  auto self = shared_from_this();
  socket_.async_connect(asio::local::stream_protocol::endpoint(path),
                        [self, handler = std::move(handler)](const error_code& ec) {
                          if (self->closed_) return;
                          handler(ec);
                        });
}

void FramedSocket::adopt(asio::local::stream_protocol::socket socket) {
  socket_ = std::move(socket);
}

void FramedSocket::start(PacketHandler on_packet, CloseHandler on_close) {
  on_packet_ = std::move(on_packet);
  on_close_ = std::move(on_close);
  read_header();
}

void FramedSocket::read_header() {
  auto self = shared_from_this();
  asio::async_read(socket_, asio::buffer(header_), [self](const error_code& ec, std::size_t) {
    if (self->closed_) return;
    if (ec) {
      self->fail(ec == asio::error::eof ? "connection closed by charon" : ec.message());
      return;
    }
    Result<std::size_t> length = decode_length_header(self->header_);
    if (!length) {
      self->fail(length.error());
      return;
    }
    self->read_body(*length);
  });
}

void FramedSocket::read_body(std::size_t length) {
  // length <= 512 KiB was checked on the header: the allocation is bounded.
  body_.resize(length);
  auto self = shared_from_this();
  asio::async_read(socket_, asio::buffer(body_), [self](const error_code& ec, std::size_t) {
    if (self->closed_) return;
    if (ec) {
      self->fail(ec == asio::error::eof ? "connection closed by charon" : ec.message());
      return;
    }
    Result<Packet> packet = decode_packet(self->body_);
    if (!packet) {
      self->fail(packet.error());
      return;
    }
    self->on_packet_(std::move(*packet));
    if (!self->closed_) self->read_header();
  });
}

Status FramedSocket::send(const Packet& packet, bool sensitive) {
  if (closed_) return Error{"vici: connection is closed", ErrorCode::unavailable};
  Result<std::string> frame = encode_frame(packet);
  if (!frame) return frame.failure();
  return send_encoded(std::move(*frame), sensitive);
}

Status FramedSocket::send_encoded(std::string frame, bool sensitive) {
  if (closed_) {
    if (sensitive) wipe(frame);
    return Error{"vici: connection is closed", ErrorCode::unavailable};
  }
  outgoing_.push_back(Outgoing{std::move(frame), sensitive});
  if (!writing_) write_next();
  return {};
}

void FramedSocket::write_next() {
  if (outgoing_.empty() || closed_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(outgoing_.front().bytes),
                    [self](const error_code& ec, std::size_t) {
                      Outgoing& done = self->outgoing_.front();
                      if (done.sensitive) wipe(done.bytes);
                      self->outgoing_.pop_front();
                      if (self->closed_) return;
                      if (ec) {
                        self->fail("write failed: " + ec.message());
                        return;
                      }
                      self->write_next();
                    });
}

void FramedSocket::fail(const std::string& reason) {
  if (closed_) return;
  CloseHandler handler = std::move(on_close_);
  close();
  if (handler) handler(reason);
}

void FramedSocket::close() {
  if (closed_) return;
  // The handlers stay: one may be running right now (it called close()). They are
  // never called again because every completion checks closed_ first.
  closed_ = true;
  error_code ignored;
  socket_.shutdown(asio::local::stream_protocol::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace ergw::vici
