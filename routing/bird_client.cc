#include "routing/bird_client.h"

#include <array>
#include <deque>
#include <optional>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "common/time_format.h"

namespace ergw::routing {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// BIRD reads requests into a 4096-byte buffer (CLI_RX_BUF_SIZE) and answers
// longer ones with "9000 Command too long".
constexpr std::size_t kMaxCommandLength = 4000;

std::optional<std::string> invalid_command(const std::string& line) {
  if (line.empty()) return "empty BIRD command";
  if (line.size() > kMaxCommandLength) return "BIRD command longer than 4000 bytes";
  if (line.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
    return "BIRD command with a line break or NUL in it";
  }
  return std::nullopt;
}

}  // namespace

class BirdClient::Impl : public std::enable_shared_from_this<BirdClient::Impl> {
 public:
  Impl(asio::any_io_executor executor, Clock& clock, BirdClientOptions options)
      : executor_(std::move(executor)), options_(std::move(options)), timer_(clock.make_timer()) {}

  void submit(std::string line, ReplyCallback callback) {
    if (auto why = invalid_command(line)) {
      deliver(std::move(callback), Error{*why});
      return;
    }
    if (queue_.size() >= options_.max_queued) {
      deliver(std::move(callback), Error{"BIRD is not keeping up: " + std::to_string(queue_.size()) +
                                         " commands already queued"});
      return;
    }
    queue_.push_back({std::move(line), std::move(callback)});
    pump();
  }

  void reject(std::string reason, ReplyCallback callback) { deliver(std::move(callback), Error{std::move(reason)}); }

  void reset(const std::string& reason) {
    if (state_ == State::idle && !active_ && queue_.empty()) return;
    fail_connection(reason);
  }

  void shutdown() {
    destroyed_ = true;
    ++generation_;
    close_socket();
    timer_->cancel();
    queue_.clear();
    active_.reset();
  }

  bool connected() const { return state_ == State::ready; }
  const std::string& greeting() const { return greeting_; }
  const std::string& socket_path() const { return options_.socket_path; }

 private:
  enum class State { idle, connecting, ready };
  struct Pending {
    std::string line;
    ReplyCallback callback;
  };

  // Always through the executor: a caller never sees its callback run inside
  // its own call.
  void deliver(ReplyCallback callback, Result<Reply> result) {
    asio::post(executor_, [weak = weak_from_this(), callback = std::move(callback),
                           result = std::move(result)]() mutable {
      auto self = weak.lock();
      if (!self || self->destroyed_) return;
      callback(std::move(result));
    });
  }

  void pump() {
    if (active_ || queue_.empty()) return;
    if (state_ == State::idle) {
      connect();
      return;
    }
    if (state_ != State::ready) return;
    active_ = std::move(queue_.front());
    queue_.pop_front();
    send_active();
  }

  void connect() {
    state_ = State::connecting;
    const uint64_t generation = ++generation_;
    parser_ = ReplyParser{};
    socket_.emplace(executor_);
    timer_->start(options_.connect_timeout, [this, generation] {
      if (generation != generation_ || state_ != State::connecting) return;
      fail_connection("BIRD did not greet on " + options_.socket_path + " within " +
                      format_millis(options_.connect_timeout) + " (stopped or overloaded?)");
    });
    socket_->async_connect(asio::local::stream_protocol::endpoint(options_.socket_path),
                           [weak = weak_from_this(), generation](const error_code& ec) {
                             auto self = weak.lock();
                             if (!self || self->generation_ != generation) return;
                             if (ec) {
                               self->fail_connection("cannot connect to BIRD's control socket " +
                                                     self->options_.socket_path + ": " + ec.message());
                               return;
                             }
                             self->read_more(generation);
                           });
  }

  void read_more(uint64_t generation) {
    socket_->async_read_some(
        asio::buffer(read_buffer_), [weak = weak_from_this(), generation](const error_code& ec, std::size_t n) {
          auto self = weak.lock();
          if (!self || self->generation_ != generation) return;
          if (ec) {
            self->fail_connection(ec == asio::error::eof ? "BIRD closed its control socket"
                                                         : "reading BIRD's control socket: " + ec.message());
            return;
          }
          if (Status fed = self->parser_.feed(std::string_view(self->read_buffer_.data(), n)); !fed) {
            self->fail_connection(fed.error());
            return;
          }
          while (auto reply = self->parser_.next()) {
            self->on_reply(std::move(*reply));
            if (self->generation_ != generation) return;
          }
          self->read_more(generation);
        });
  }

  void on_reply(Reply reply) {
    if (state_ == State::connecting) {
      if (reply.final_code() != reply_code::kWelcome) {
        fail_connection("unexpected greeting from BIRD: " + reply.text());
        return;
      }
      greeting_ = reply.lines.back().text;
      state_ = State::ready;
      timer_->cancel();
      pump();
      return;
    }
    if (!active_) {
      fail_connection("BIRD sent a reply nobody asked for: " + reply.text());
      return;
    }
    timer_->cancel();
    Pending done = std::move(*active_);
    active_.reset();
    deliver(std::move(done.callback), std::move(reply));
    pump();
  }

  void send_active() {
    const uint64_t generation = generation_;
    const uint64_t command = ++command_seq_;
    timer_->start(options_.command_timeout, [this, generation, command] {
      if (generation != generation_ || command != command_seq_ || !active_) return;
      fail_connection("BIRD did not answer '" + active_->line + "' within " + format_millis(options_.command_timeout) +
                      " (stopped or overloaded?)");
    });
    write_buffer_ = active_->line + "\n";
    asio::async_write(*socket_, asio::buffer(write_buffer_),
                      [weak = weak_from_this(), generation](const error_code& ec, std::size_t) {
                        auto self = weak.lock();
                        if (!self || self->generation_ != generation || !ec) return;
                        self->fail_connection("writing to BIRD's control socket: " + ec.message());
                      });
  }

  void close_socket() {
    if (!socket_) return;
    error_code ignored;
    socket_->shutdown(asio::local::stream_protocol::socket::shutdown_both, ignored);
    socket_->close(ignored);
    socket_.reset();
  }

  // The connection cannot be trusted any more: close it and fail every
  // command, active and queued, with the reason.
  void fail_connection(const std::string& reason) {
    ++generation_;
    close_socket();
    state_ = State::idle;
    timer_->cancel();
    if (active_) {
      deliver(std::move(active_->callback), Error{reason});
      active_.reset();
    }
    while (!queue_.empty()) {
      deliver(std::move(queue_.front().callback), Error{reason});
      queue_.pop_front();
    }
  }

  asio::any_io_executor executor_;
  BirdClientOptions options_;
  std::unique_ptr<Timer> timer_;  // the greeting's deadline, then the active command's
  State state_ = State::idle;
  bool destroyed_ = false;
  uint64_t generation_ = 0;   // bumps with every connection and every failure
  uint64_t command_seq_ = 0;  // identifies the active command for its timer
  std::optional<asio::local::stream_protocol::socket> socket_;
  ReplyParser parser_;
  std::array<char, 8192> read_buffer_{};
  std::string write_buffer_;
  std::string greeting_;
  std::deque<Pending> queue_;
  std::optional<Pending> active_;
};

BirdClient::BirdClient(asio::any_io_executor executor, Clock& clock, BirdClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), clock, std::move(options))) {}

BirdClient::~BirdClient() { impl_->shutdown(); }

void BirdClient::command(std::string line, ReplyCallback callback) {
  impl_->submit(std::move(line), std::move(callback));
}
void BirdClient::reject(std::string reason, ReplyCallback callback) {
  impl_->reject(std::move(reason), std::move(callback));
}
void BirdClient::reset(const std::string& reason) { impl_->reset(reason); }
bool BirdClient::connected() const { return impl_->connected(); }
const std::string& BirdClient::greeting() const { return impl_->greeting(); }
const std::string& BirdClient::socket_path() const { return impl_->socket_path(); }

}  // namespace ergw::routing
