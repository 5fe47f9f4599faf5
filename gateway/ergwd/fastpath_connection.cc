#include "gateway/ergwd/fastpath_connection.h"

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace ergw::gateway {

namespace asio = boost::asio;
using xfrm::control::MessageReader;
using xfrm::control::MessageWriter;

MessageReader FastpathReply::reader() const { return MessageReader::parse(bytes).value(); }

FastpathConnection::FastpathConnection(asio::any_io_executor executor, ergw::Clock& clock, std::string socket_path,
                                       std::chrono::milliseconds timeout)
    : executor_(std::move(executor)),
      path_(std::move(socket_path)),
      timeout_(timeout),
      socket_(executor_),
      deadline_(clock.make_timer()) {}

FastpathConnection::~FastpathConnection() {
  *alive_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void FastpathConnection::post(std::function<void()> f) {
  std::weak_ptr<bool> alive = alive_;
  asio::post(executor_, [alive, f = std::move(f)] {
    if (!alive.expired()) f();
  });
}

void FastpathConnection::connect(Done done) {
  close();
  const uint64_t generation = generation_;
  std::weak_ptr<bool> alive = alive_;
  // A connect to a unix socket completes at once (or fails at once); a fast
  // path that is stopped still accepts into its backlog, so the deadline is
  // on the requests, not here.
  socket_.async_connect(asio::local::stream_protocol::endpoint(path_),
                        [this, alive, generation, done](const boost::system::error_code& ec) {
                          if (alive.expired() || generation != generation_) return;
                          if (ec) {
                            boost::system::error_code ignored;
                            socket_.close(ignored);
                            done(Error{"cannot connect to " + path_ + ": " + ec.message()});
                            return;
                          }
                          connected_ = true;
                          done(Status::success());
                          send_next();
                        });
}

void FastpathConnection::request(uint16_t type, std::function<void(MessageWriter&)> fill, ReplyHandler done) {
  Pending p;
  p.type = type;
  p.sequence = next_sequence_++;
  MessageWriter writer(type, p.sequence);
  if (fill) fill(writer);
  p.message = writer.finish();
  p.done = std::move(done);
  if (!connected_) {
    post([done = std::move(p.done), path = path_] { done(Error{"not connected to the fast path (" + path + ")"}); });
    return;
  }
  queue_.push_back(std::move(p));
  send_next();
}

void FastpathConnection::send_next() {
  if (in_flight_ || queue_.empty() || !connected_) return;
  in_flight_ = true;
  const uint64_t generation = generation_;
  std::weak_ptr<bool> alive = alive_;
  deadline_->start(timeout_, [this] {
    fail("the fast path did not answer within " + std::to_string(timeout_.count()) + " ms (stopped or hung?)");
  });
  asio::async_write(socket_, asio::buffer(queue_.front().message),
                    [this, alive, generation](const boost::system::error_code& ec, size_t) {
                      if (alive.expired() || generation != generation_) return;
                      if (ec) return fail("sending to the fast path failed: " + ec.message());
                      read_reply();
                    });
}

void FastpathConnection::read_reply() {
  const uint64_t generation = generation_;
  std::weak_ptr<bool> alive = alive_;
  header_.assign(4, 0);
  asio::async_read(socket_, asio::buffer(header_), [this, alive, generation](const boost::system::error_code& ec, size_t) {
    if (alive.expired() || generation != generation_) return;
    if (ec) return fail(ec == asio::error::eof ? "the fast path closed the connection" : "reading from the fast path: " + ec.message());
    const uint32_t length = xfrm::control::peek_message_length(std::span<const uint8_t, 4>(header_.data(), 4));
    if (length < ERGW_IPSEC_HEADER_BYTES || length > ERGW_IPSEC_MAX_MESSAGE) {
      return fail("the fast path sent a message of " + std::to_string(length) + " octets (allowed 16-65536)");
    }
    body_ = header_;
    body_.resize(length);
    asio::async_read(socket_, asio::buffer(body_.data() + 4, length - 4),
                     [this, alive, generation](const boost::system::error_code& ec2, size_t) {
                       if (alive.expired() || generation != generation_) return;
                       if (ec2) return fail("reading from the fast path: " + ec2.message());
                       auto parsed = MessageReader::parse(body_);
                       if (!parsed) return fail("the fast path sent a malformed message: " + parsed.error());
                       const auto header = parsed.value().header();
                       if (header.sequence == 0) {  // an event: ergwd does not subscribe; skip it
                         read_reply();
                         return;
                       }
                       Pending p = std::move(queue_.front());
                       if (header.sequence != p.sequence || header.type != p.type) {
                         return fail("the fast path answered out of order (sequence " +
                                     std::to_string(header.sequence) + ", expected " +
                                     std::to_string(p.sequence) + ")");
                       }
                       queue_.pop_front();
                       deadline_->cancel();
                       in_flight_ = false;
                       if (header.status != ERGW_IPSEC_OK) {
                         auto text = parsed.value().text(ERGW_IPSEC_ATTR_ERROR_TEXT);
                         std::string why = text.ok() && text.value() ? std::string(*text.value()) : "no reason given";
                         p.done(Error{std::string(xfrm::control::message_name(p.type)) + " refused by the fast path (status " +
                                      std::to_string(header.status) + "): " + why});
                       } else {
                         p.done(FastpathReply{std::move(body_)});
                       }
                       send_next();
                     });
  });
}

void FastpathConnection::fail(const std::string& why) {
  const bool was_connected = connected_;
  auto failed = std::move(queue_);
  queue_.clear();
  close();
  for (auto& p : failed) {
    post([done = std::move(p.done), why] { done(Error{why}); });
  }
  if (was_connected && on_lost_) post([this, why] { on_lost_(why); });
}

void FastpathConnection::close() {
  ++generation_;
  deadline_->cancel();
  in_flight_ = false;
  connected_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  // Requests still queued after an explicit close fail too (never silently dropped).
  auto failed = std::move(queue_);
  queue_.clear();
  for (auto& p : failed) {
    post([done = std::move(p.done)] { done(Error{"the connection to the fast path was closed"}); });
  }
}

}  // namespace ergw::gateway
