// FakeCharon: an in-process vici server on a unix socket, for testing the client's
// queueing, streaming, timeout and reconnect logic without a daemon. It answers
// EVENT_(UN)REGISTER, runs scripted command handlers and records what it saw.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "vici/framed_socket.h"

namespace ergw::vici::testing {

// The reply of a "simple" command: success = yes, or no with charon's errmsg.
Message success_reply();
Message failure_reply(std::string_view errmsg);

class FakeCharon {
 public:
  struct Session {
    std::shared_ptr<FramedSocket> socket;
    std::set<std::string> registered;
    bool command_outstanding = false;
  };
  // Returns the packets to send for a request (stream events, then the reply).
  // Returning nothing leaves the command unanswered (for timeout tests); the
  // handler may also keep the session and answer later with send().
  using Handler = std::function<std::vector<Packet>(Session& session, const Message& request)>;

  FakeCharon(boost::asio::io_context& io, std::string path);
  ~FakeCharon();

  void listen();       // binds and accepts (again after shut_down)
  void shut_down();    // closes every session and the listener, removes the socket
  void on_command(const std::string& name, Handler handler) { handlers_[name] = std::move(handler); }
  // Events charon "knows"; registering for another one gets EVENT_UNKNOWN.
  void set_known_events(std::set<std::string> events) { known_events_ = std::move(events); }
  // Sends an EVENT to every session registered for it.
  void emit(const std::string& event, const Message& message);
  // Sends a packet on a session (for late replies and protocol violations).
  void send(Session& session, const Packet& packet);
  void send_raw(Session& session, std::string bytes);
  // When set, a stream event is sent after EVENT_UNREGISTER, before the confirm.
  void set_late_event_on_unregister(bool on) { late_event_on_unregister_ = on; }

  int accepted() const { return accepted_; }
  int registrations(const std::string& event) const;
  const std::vector<std::string>& commands_seen() const { return commands_seen_; }
  bool saw_overlapping_commands() const { return overlapping_; }
  std::vector<std::shared_ptr<Session>>& sessions() { return sessions_; }
  const std::vector<std::string>& raw_requests() const { return raw_requests_; }

 private:
  void accept();
  void on_packet(const std::shared_ptr<Session>& session, Packet packet);

  boost::asio::io_context& io_;
  std::string path_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  std::vector<std::shared_ptr<Session>> sessions_;
  std::map<std::string, Handler> handlers_;
  std::set<std::string> known_events_{"ike-updown", "child-updown", "ike-rekey", "child-rekey",
                                      "log", "control-log", "list-sa", "list-conn"};
  std::map<std::string, int> registrations_;
  std::vector<std::string> commands_seen_;
  std::vector<std::string> raw_requests_;
  bool overlapping_ = false;
  bool late_event_on_unregister_ = false;
  int accepted_ = 0;
};

}  // namespace ergw::vici::testing
