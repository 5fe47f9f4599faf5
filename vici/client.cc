#include "vici/client.h"

#include <algorithm>
#include <deque>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "vici/framed_socket.h"
#include "vici/packet.h"
#include "common/secret.h"
#include "common/time_format.h"

namespace ergw::vici {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Accepts charon's URI form for the socket ("unix:///run/charon.vici").
std::string socket_file(std::string path) {
  constexpr std::string_view kUnixScheme = "unix://";
  if (path.rfind(kUnixScheme, 0) == 0) path.erase(0, kUnixScheme.size());
  return path;
}

}  // namespace

class Client::Impl : public std::enable_shared_from_this<Client::Impl> {
 public:
  Impl(asio::any_io_executor executor, ClientOptions options)
      : executor_(executor),
        options_(std::move(options)),
        socket_path_(socket_file(options_.socket_path)),
        command_timer_(executor),
        connect_timer_(executor),
        backoff_(options_.reconnect_initial_delay) {}

  ~Impl() { close_sockets(); }

  ConnectedCallback on_connected_;
  DisconnectedCallback on_disconnected_;
  EventCallback on_event_;
  DiagnosticCallback on_diagnostic_;

  void start() {
    if (state_ != State::stopped) return;
    backoff_ = options_.reconnect_initial_delay;
    begin_connect();
  }

  void stop() {
    if (state_ == State::stopped) return;
    const bool was_connected = state_ == State::connected;
    state_ = State::stopped;
    ++generation_;
    close_sockets();
    cancel_timers();
    fail_all("vici: client stopped");
    if (was_connected) notify_disconnected("client stopped");
  }

  // The Client handle is gone: stop and drop every callback still queued.
  void destroy() {
    destroyed_ = true;
    stop();
  }

  bool connected() const { return state_ == State::connected; }

  void submit(std::string_view command, std::string_view stream_event, Message request,
              ReplyCallback reply, StreamedCallback streamed, CommandOptions options) {
    auto pending = std::make_unique<Pending>();
    pending->command = std::string(command);
    pending->stream_event = std::string(stream_event);
    pending->options = options;
    pending->streamed_command = streamed != nullptr;
    pending->reply = std::move(reply);
    pending->streamed = std::move(streamed);
    if (pending->streamed_command && stream_event.empty()) {
      fail(std::move(pending), Error{"vici: streamed command '" + std::string(command) + "' needs a stream event",
                                     ErrorCode::invalid_argument});
      return;
    }
    // Encode now: an oversize request fails at once, and a secret is held only in
    // one buffer that is wiped later, not in the message tree.
    Packet packet = Packet::command(command, std::move(request));
    Result<std::string> frame = encode_frame(packet);
    if (options.sensitive) packet.message.wipe_values();
    if (!frame) {
      fail(std::move(pending), frame.failure());
      return;
    }
    pending->frame = std::move(*frame);
    if (state_ != State::connected) {
      fail(std::move(pending), Error{"vici: not connected to charon", ErrorCode::unavailable});
      return;
    }
    queue_.push_back(std::move(pending));
    start_next();
  }

 private:
  enum class State { stopped, connecting, connected, waiting_to_reconnect };
  enum class Phase { registering, awaiting_reply, unregistering };

  struct Pending {
    std::string command;
    std::string stream_event;  // only for a streamed command
    bool streamed_command = false;
    CommandOptions options;
    std::string frame;         // the encoded CMD_REQUEST
    ReplyCallback reply;
    StreamedCallback streamed;
    Phase phase = Phase::awaiting_reply;
    StreamedReply collected;
    std::optional<Error> deferred_error;  // reported once unregistered

    bool is_streamed() const { return streamed_command; }
    ~Pending() {
      if (options.sensitive) wipe(frame);
    }
  };

  // --- delivering to the user, always from the executor, never re-entrantly ---
  template <typename F>
  void deliver(F function) {
    asio::post(executor_, [weak = weak_from_this(), function = std::move(function)]() mutable {
      std::shared_ptr<Impl> self = weak.lock();
      if (!self || self->destroyed_) return;
      function();
    });
  }

  void diagnostic(std::string text) {
    if (!on_diagnostic_) return;
    deliver([callback = on_diagnostic_, text = std::move(text)] { callback(text); });
  }

  void notify_disconnected(std::string reason) {
    if (!on_disconnected_) return;
    deliver([callback = on_disconnected_, reason = std::move(reason)] { callback(reason); });
  }

  void fail(std::unique_ptr<Pending> pending, Error error) {
    if (pending->is_streamed()) {
      deliver([callback = std::move(pending->streamed), error = std::move(error)] { callback(error); });
    } else {
      deliver([callback = std::move(pending->reply), error = std::move(error)] { callback(error); });
    }
  }

  // The active command fails with `active_code` (timed_out when it is the
  // one that timed out), every queued one as unavailable.
  void fail_all(const std::string& reason, ErrorCode active_code = ErrorCode::unavailable) {
    if (active_) fail(std::move(active_), Error{reason, active_code});
    while (!queue_.empty()) {
      fail(std::move(queue_.front()), Error{reason, ErrorCode::unavailable});
      queue_.pop_front();
    }
  }

  // --- connection management ---
  void close_sockets() {
    if (command_socket_) command_socket_->close();
    if (event_socket_) event_socket_->close();
  }

  void cancel_timers() {
    command_timer_.cancel();
    connect_timer_.cancel();
  }

  void begin_connect() {
    state_ = State::connecting;
    const uint64_t generation = ++generation_;
    next_subscription_ = 0;
    command_socket_ = std::make_shared<FramedSocket>(executor_);
    event_socket_ = std::make_shared<FramedSocket>(executor_);
    connect_timer_.expires_after(options_.connect_timeout);
    connect_timer_.async_wait([weak = weak_from_this(), generation](const error_code& ec) {
      std::shared_ptr<Impl> self = weak.lock();
      if (ec || !self || self->generation_ != generation) return;
      if (self->state_ == State::connecting) {
        self->connection_lost("connecting to charon timed out after " +
                              format_millis(self->options_.connect_timeout));
      }
    });
    command_socket_->connect(socket_path_, [this](const error_code& ec) {
      if (ec) {
        connection_lost("cannot connect to " + socket_path_ + ": " + ec.message());
        return;
      }
      event_socket_->connect(socket_path_, [this](const error_code& event_ec) {
        if (event_ec) {
          connection_lost("cannot connect to " + socket_path_ + ": " +
                          event_ec.message());
          return;
        }
        command_socket_->start([this](Packet packet) { on_command_packet(std::move(packet)); },
                               [this](const std::string& reason) { connection_lost(reason); });
        event_socket_->start([this](Packet packet) { on_event_packet(std::move(packet)); },
                             [this](const std::string& reason) { connection_lost(reason); });
        subscribe_next();
      });
    });
  }

  void subscribe_next() {
    if (next_subscription_ < options_.events.size()) {
      Status sent =
          event_socket_->send(Packet::register_event(options_.events[next_subscription_]));
      if (!sent) connection_lost(sent.error());
      return;
    }
    connect_timer_.cancel();
    state_ = State::connected;
    backoff_ = options_.reconnect_initial_delay;
    diagnostic("connected to charon at " + socket_path_);
    if (on_connected_) deliver([callback = on_connected_] { callback(); });
  }

  void connection_lost(const std::string& reason, ErrorCode active_code = ErrorCode::unavailable) {
    if (state_ == State::stopped || state_ == State::waiting_to_reconnect) return;
    const bool was_connected = state_ == State::connected;
    state_ = State::waiting_to_reconnect;
    const uint64_t generation = ++generation_;
    close_sockets();
    cancel_timers();
    fail_all("vici: " + reason, active_code);
    if (was_connected) notify_disconnected(reason);
    diagnostic(reason + "; reconnecting in " + format_millis(backoff_));
    connect_timer_.expires_after(backoff_);
    connect_timer_.async_wait([weak = weak_from_this(), generation](const error_code& ec) {
      std::shared_ptr<Impl> self = weak.lock();
      if (ec || !self || self->generation_ != generation) return;
      self->begin_connect();
    });
    backoff_ = std::min(backoff_ * 2, options_.reconnect_max_delay);
  }

  void protocol_error(const std::string& what, const Packet& packet) {
    connection_lost(what + ": unexpected " + std::string(packet_type_name(packet.type)));
  }

  // --- the event connection ---
  void on_event_packet(Packet packet) {
    switch (packet.type) {
      case PacketType::event:
        // Events may be raised at any time while registered, also between
        // registrations (vici README).
        if (on_event_) {
          deliver([callback = on_event_, name = std::move(packet.name),
                   message = std::move(packet.message)] { callback(name, message); });
        }
        return;
      case PacketType::event_confirm:
      case PacketType::event_unknown:
        if (state_ != State::connecting || next_subscription_ >= options_.events.size()) break;
        if (packet.type == PacketType::event_unknown) {
          diagnostic("charon does not know event '" + options_.events[next_subscription_] +
                     "'; not subscribed");
        }
        ++next_subscription_;
        subscribe_next();
        return;
      default:
        break;
    }
    protocol_error("event connection", packet);
  }

  // --- the command connection ---
  void start_next() {
    if (active_ || queue_.empty() || state_ != State::connected) return;
    active_ = std::move(queue_.front());
    queue_.pop_front();
    const uint64_t command_id = ++command_seq_;
    const std::chrono::milliseconds timeout =
        active_->options.timeout.value_or(options_.command_timeout);
    command_timer_.expires_after(timeout);
    command_timer_.async_wait(
        [weak = weak_from_this(), command_id, timeout](const error_code& ec) {
          std::shared_ptr<Impl> self = weak.lock();
          if (ec || !self || !self->active_ || self->command_seq_ != command_id) return;
          // A late reply could not be told apart from the next command's reply:
          // the only safe way on is a fresh connection.
          self->connection_lost("command '" + self->active_->command + "' timed out after " + format_millis(timeout),
                                ErrorCode::timed_out);
        });
    if (active_->is_streamed()) {
      active_->phase = Phase::registering;
      send_on_command_socket(Packet::register_event(active_->stream_event));
    } else {
      send_request();
    }
  }

  void send_request() {
    active_->phase = Phase::awaiting_reply;
    std::string frame = std::move(active_->frame);
    if (Status s = command_socket_->send_encoded(std::move(frame), active_->options.sensitive);
        !s) {
      connection_lost(s.error());
    }
  }

  void send_on_command_socket(const Packet& packet) {
    if (Status s = command_socket_->send(packet); !s) connection_lost(s.error());
  }

  void complete_active() {
    command_timer_.cancel();
    std::unique_ptr<Pending> done = std::move(active_);
    if (done->deferred_error) {
      Error error = *done->deferred_error;
      fail(std::move(done), std::move(error));
    } else if (done->is_streamed()) {
      deliver([callback = std::move(done->streamed), reply = std::move(done->collected)]() mutable {
        callback(std::move(reply));
      });
    } else {
      deliver([callback = std::move(done->reply), reply = std::move(done->collected.response)]()
                  mutable { callback(std::move(reply)); });
    }
    start_next();
  }

  void finish_with_reply(Message response) {
    active_->collected.response = std::move(response);
    if (active_->is_streamed()) {
      active_->phase = Phase::unregistering;
      send_on_command_socket(Packet::unregister_event(active_->stream_event));
    } else {
      complete_active();
    }
  }

  void on_command_packet(Packet packet) {
    if (!active_) {
      protocol_error("command connection, no command active", packet);
      return;
    }
    Pending& pending = *active_;
    switch (pending.phase) {
      case Phase::registering:
        if (packet.type == PacketType::event_confirm) {
          send_request();
          return;
        }
        if (packet.type == PacketType::event_unknown) {
          pending.deferred_error =
              Error{"vici: charon does not know event '" + pending.stream_event + "'", ErrorCode::not_found};
          complete_active();
          return;
        }
        break;
      case Phase::awaiting_reply:
        if (packet.type == PacketType::cmd_response) {
          finish_with_reply(std::move(packet.message));
          return;
        }
        if (packet.type == PacketType::cmd_unknown) {
          pending.deferred_error =
              Error{"vici: charon does not know command '" + pending.command + "'", ErrorCode::not_found};
          finish_with_reply({});
          return;
        }
        if (packet.type == PacketType::event) {
          collect_event(pending, std::move(packet));
          return;
        }
        break;
      case Phase::unregistering:
        if (packet.type == PacketType::event_confirm || packet.type == PacketType::event_unknown) {
          complete_active();
          return;
        }
        // A stream event raised while unregistering is late, not an error
        // (upstream python client fix 484c0f8dd0).
        if (packet.type == PacketType::event) return;
        break;
    }
    protocol_error("command '" + pending.command + "'", packet);
  }

  void collect_event(Pending& pending, Packet packet) {
    if (!pending.is_streamed() || packet.name != pending.stream_event) {
      diagnostic("ignored event '" + packet.name + "' during command '" + pending.command + "'");
      return;
    }
    if (pending.collected.events.size() >= options_.max_stream_events) {
      // Keep draining so the connection stays in step; report once done.
      pending.deferred_error = Error{"vici: command '" + pending.command + "' streamed more than " +
                                         std::to_string(options_.max_stream_events) + " events",
                                     ErrorCode::malformed};
      return;
    }
    pending.collected.events.push_back(std::move(packet.message));
  }

  asio::any_io_executor executor_;
  ClientOptions options_;
  std::string socket_path_;  // options_.socket_path without "unix://"
  State state_ = State::stopped;
  bool destroyed_ = false;
  uint64_t generation_ = 0;   // bumps on every (re)connect and stop
  uint64_t command_seq_ = 0;  // identifies the active command for its timer
  std::shared_ptr<FramedSocket> command_socket_;
  std::shared_ptr<FramedSocket> event_socket_;
  asio::steady_timer command_timer_;
  asio::steady_timer connect_timer_;  // connect timeout, then the reconnect delay
  std::chrono::milliseconds backoff_;
  std::size_t next_subscription_ = 0;
  std::deque<std::unique_ptr<Pending>> queue_;
  std::unique_ptr<Pending> active_;
};

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

Client::~Client() { impl_->destroy(); }

void Client::on_connected(ConnectedCallback callback) { impl_->on_connected_ = std::move(callback); }
void Client::on_disconnected(DisconnectedCallback callback) {
  impl_->on_disconnected_ = std::move(callback);
}
void Client::on_event(EventCallback callback) { impl_->on_event_ = std::move(callback); }
void Client::on_diagnostic(DiagnosticCallback callback) {
  impl_->on_diagnostic_ = std::move(callback);
}
void Client::start() { impl_->start(); }
void Client::stop() { impl_->stop(); }
bool Client::connected() const { return impl_->connected(); }

void Client::call(std::string_view command, Message request, ReplyCallback callback,
                  CommandOptions options) {
  impl_->submit(command, {}, std::move(request), std::move(callback), nullptr, options);
}

void Client::call_streamed(std::string_view command, std::string_view stream_event,
                           Message request, StreamedCallback callback, CommandOptions options) {
  impl_->submit(command, stream_event, std::move(request), nullptr, std::move(callback), options);
}

}  // namespace ergw::vici
