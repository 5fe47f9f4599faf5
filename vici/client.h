// Client: the asynchronous strongSwan vici client (Boost.Asio, unix socket).
//
// It keeps two connections to charon, as the vici README advises:
//  * the command connection runs one command at a time (vici has no sequence
//    numbers, so a reply belongs to the only outstanding request); further calls
//    wait in a queue. Streamed commands (initiate, terminate, list-sas,
//    list-conns) register for their stream event first, collect every event until
//    the CMD_RESPONSE, then unregister, so the stream is always drained.
//  * the event connection holds the long-lived subscriptions (ike-updown, ...).
//
// When either connection breaks (charon stopped or restarted, a protocol error, a
// command timeout, which leaves the stream in an unknown state) both are closed,
// every pending command fails, on_disconnected fires, and the client reconnects
// with exponential backoff and registers the events again. on_connected fires each
// time both connections are up and subscribed: the place to re-apply state.
//
// Threading: use a Client from one thread (the one running its executor, or a
// strand). Callbacks run on the executor, never inside call().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "common/result.h"
#include "vici/message.h"

namespace ergw::vici {

struct ClientOptions {
  // charon's vici socket: a filesystem path, or the strongswan.conf form
  // "unix:///path" (charon.plugins.vici.socket). Debian's default below.
  std::string socket_path = "/var/run/charon.vici";
  // Default limit for one command, from sending it to its (last) reply.
  std::chrono::milliseconds command_timeout{30'000};
  // Limit for connecting and registering the events.
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds reconnect_initial_delay{100};
  std::chrono::milliseconds reconnect_max_delay{10'000};
  // Events to subscribe to on the event connection.
  std::vector<std::string> events;
  // Bound on the events one streamed command may collect.
  std::size_t max_stream_events = 100'000;
};

struct CommandOptions {
  std::optional<std::chrono::milliseconds> timeout;  // default: ClientOptions
  bool sensitive = false;  // the request holds a secret: wipe buffers after use
};

// The outcome of a streamed command: every stream event, then the final reply.
struct StreamedReply {
  std::vector<Message> events;
  Message response;
};

class Client {
 public:
  using ReplyCallback = std::function<void(Result<Message>)>;
  using StreamedCallback = std::function<void(Result<StreamedReply>)>;
  using EventCallback = std::function<void(const std::string& event, const Message& message)>;
  using ConnectedCallback = std::function<void()>;
  using DisconnectedCallback = std::function<void(const std::string& reason)>;
  using DiagnosticCallback = std::function<void(const std::string& text)>;

  Client(boost::asio::any_io_executor executor, ClientOptions options);
  ~Client();  // stops; pending callbacks are dropped, not called
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Set callbacks before start().
  void on_connected(ConnectedCallback callback);
  void on_disconnected(DisconnectedCallback callback);
  void on_event(EventCallback callback);
  // Connection attempts and oddities, for the log. Never carries message values.
  void on_diagnostic(DiagnosticCallback callback);

  // Starts connecting (and reconnecting until stop()).
  void start();
  // Closes both connections and fails every pending command; no reconnect.
  void stop();
  bool connected() const;

  // Sends `command` and completes with charon's reply message. A reply with
  // success=no is still a reply here (see commands.h for checked wrappers); errors
  // are transport failures: not connected, timeout, disconnect, unknown command.
  void call(std::string_view command, Message request, ReplyCallback callback,
            CommandOptions options = {});
  // A streamed command: registers `stream_event`, sends `command`, collects the
  // events until the reply, unregisters, then completes.
  void call_streamed(std::string_view command, std::string_view stream_event, Message request,
                     StreamedCallback callback, CommandOptions options = {});

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ergw::vici
