#include "tests/vici/fake_charon.h"

#include <unistd.h>

#include "vici/message_codec.h"

namespace ergw::vici::testing {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

Message success_reply() {
  Message m;
  m.set("success", "yes");
  return m;
}

Message failure_reply(std::string_view errmsg) {
  Message m;
  m.set("success", "no").set("errmsg", errmsg);
  return m;
}

FakeCharon::FakeCharon(asio::io_context& io, std::string path) : io_(io), path_(std::move(path)) {}

FakeCharon::~FakeCharon() { shut_down(); }

void FakeCharon::listen() {
  ::unlink(path_.c_str());
  acceptor_ = std::make_unique<stream::acceptor>(io_, stream::endpoint(path_));
  accept();
}

void FakeCharon::shut_down() {
  for (auto& session : sessions_) session->socket->close();
  sessions_.clear();
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    acceptor_.reset();
  }
  ::unlink(path_.c_str());
}

void FakeCharon::accept() {
  acceptor_->async_accept([this](const boost::system::error_code& ec, stream::socket socket) {
    if (ec) return;  // closed by shut_down
    ++accepted_;
    auto session = std::make_shared<Session>();
    session->socket = std::make_shared<FramedSocket>(io_.get_executor());
    session->socket->adopt(std::move(socket));
    sessions_.push_back(session);
    std::weak_ptr<Session> weak = session;
    session->socket->start(
        [this, weak](Packet packet) {
          if (auto s = weak.lock()) on_packet(s, std::move(packet));
        },
        [](const std::string&) {});
    accept();
  });
}

void FakeCharon::on_packet(const std::shared_ptr<Session>& session, Packet packet) {
  switch (packet.type) {
    case PacketType::event_register:
      if (known_events_.count(packet.name) == 0) {
        send(*session, Packet::of_type(PacketType::event_unknown));
        return;
      }
      session->registered.insert(packet.name);
      ++registrations_[packet.name];
      send(*session, Packet::of_type(PacketType::event_confirm));
      return;
    case PacketType::event_unregister:
      if (late_event_on_unregister_) {
        Message late;
        late.set("late", "yes");
        send(*session, Packet::event(packet.name, late));
      }
      session->registered.erase(packet.name);
      send(*session, Packet::of_type(PacketType::event_confirm));
      return;
    case PacketType::cmd_request: {
      if (session->command_outstanding) overlapping_ = true;
      commands_seen_.push_back(packet.name);
      if (Result<std::string> raw = encode_message(packet.message)) raw_requests_.push_back(*raw);
      auto handler = handlers_.find(packet.name);
      if (handler == handlers_.end()) {
        send(*session, Packet::of_type(PacketType::cmd_unknown));
        return;
      }
      session->command_outstanding = true;
      for (const Packet& reply : handler->second(*session, packet.message)) {
        send(*session, reply);
      }
      return;
    }
    default:
      session->socket->close();  // a client must not send anything else
  }
}

void FakeCharon::send(Session& session, const Packet& packet) {
  if (packet.type == PacketType::cmd_response || packet.type == PacketType::cmd_unknown) {
    session.command_outstanding = false;
  }
  (void)session.socket->send(packet);
}

void FakeCharon::send_raw(Session& session, std::string bytes) {
  (void)session.socket->send_encoded(std::move(bytes));
}

void FakeCharon::emit(const std::string& event, const Message& message) {
  for (auto& session : sessions_) {
    if (session->registered.count(event) != 0) send(*session, Packet::event(event, message));
  }
}

int FakeCharon::registrations(const std::string& event) const {
  auto it = registrations_.find(event);
  return it == registrations_.end() ? 0 : it->second;
}

}  // namespace ergw::vici::testing
