// The client against FakeCharon: queueing, streaming, timeouts, events and
// reconnection. Waits are bounded liveness guards (run until a condition holds),
// never assertions on elapsed time.
#include "vici/client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tests/vici/fake_charon.h"
#include "tests/vici/run_until.h"

namespace ergw::vici {
namespace {

using namespace std::chrono_literals;
using testing::FakeCharon;

std::string unique_socket_path() {
  static int counter = 0;
  return "/tmp/ergw-vici-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
         ".sock";
}

Message with(std::string_view key, std::string_view value) {
  Message m;
  m.set(key, value);
  return m;
}

class ViciClientTest : public ::testing::Test {
 protected:
  ViciClientTest() : path_(unique_socket_path()), charon_(io_, path_) {
    charon_.on_command("version", [](FakeCharon::Session&, const Message&) {
      Message reply;
      reply.set("daemon", "charon").set("version", "5.9.8");
      return std::vector<Packet>{Packet::response(reply)};
    });
    charon_.on_command("echo", [](FakeCharon::Session&, const Message& request) {
      return std::vector<Packet>{Packet::response(request)};
    });
    charon_.on_command("hang", [](FakeCharon::Session&, const Message&) {
      return std::vector<Packet>{};
    });
    charon_.on_command("list-sas", [](FakeCharon::Session&, const Message&) {
      std::vector<Packet> out;
      for (int i = 0; i < 3; ++i) {
        Message sa;
        sa.section("ike" + std::to_string(i)).set_int("uniqueid", i);
        out.push_back(Packet::event("list-sa", sa));
      }
      out.push_back(Packet::response());
      return out;
    });
    options_.socket_path = path_;
    options_.events = {"ike-updown", "child-updown"};
    options_.reconnect_initial_delay = 10ms;
    options_.reconnect_max_delay = 50ms;
  }

  void make_client() {
    client_ = std::make_unique<Client>(io_.get_executor(), options_);
    client_->on_connected([this] { ++connected_; });
    client_->on_disconnected([this](const std::string& reason) {
      ++disconnected_;
      last_disconnect_reason_ = reason;
    });
    client_->on_event([this](const std::string& name, const Message& message) {
      events_.emplace_back(name, message);
    });
    client_->on_diagnostic([this](const std::string& text) { diagnostics_.push_back(text); });
  }

  // Runs the loop until `done` holds; a generous bound keeps a broken client from
  // hanging the suite. Returns whether `done` became true.
  template <typename Pred>
  bool run_until(Pred done, std::chrono::seconds limit = 10s) {
    return testing::run_until(io_, done, limit);
  }

  void start_connected() {
    charon_.listen();
    make_client();
    client_->start();
    ASSERT_TRUE(run_until([&] { return connected_ == 1; }));
  }

  boost::asio::io_context io_;
  std::string path_;
  FakeCharon charon_;
  ClientOptions options_;
  std::unique_ptr<Client> client_;
  int connected_ = 0;
  int disconnected_ = 0;
  std::string last_disconnect_reason_;
  std::vector<std::pair<std::string, Message>> events_;
  std::vector<std::string> diagnostics_;
};

TEST_F(ViciClientTest, ConnectsAndSubscribes) {
  start_connected();
  EXPECT_TRUE(client_->connected());
  EXPECT_EQ(charon_.accepted(), 2);  // a command and an event connection
  EXPECT_EQ(charon_.registrations("ike-updown"), 1);
  EXPECT_EQ(charon_.registrations("child-updown"), 1);
}

TEST_F(ViciClientTest, AcceptsUnixUri) {
  options_.socket_path = "unix://" + path_;
  start_connected();
  EXPECT_TRUE(client_->connected());
}

TEST_F(ViciClientTest, SimpleCommand) {
  start_connected();
  std::optional<Result<Message>> reply;
  client_->call("version", {}, [&](Result<Message> r) { reply = std::move(r); });
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  ASSERT_TRUE(*reply) << reply->error();
  EXPECT_EQ(*(*reply)->get_string("version"), "5.9.8");
}

TEST_F(ViciClientTest, CallbackNeverRunsInsideCall) {
  charon_.listen();
  make_client();  // not started: the call fails, but later, from the loop
  bool called = false;
  client_->call("version", {}, [&](Result<Message> r) {
    called = true;
    EXPECT_FALSE(r);
    EXPECT_NE(r.error().find("not connected"), std::string::npos);
  });
  EXPECT_FALSE(called);
  ASSERT_TRUE(run_until([&] { return called; }));
}

TEST_F(ViciClientTest, QueuesCommandsOneAtATimeInOrder) {
  start_connected();
  std::vector<std::string> order;
  for (int i = 0; i < 20; ++i) {
    client_->call("echo", with("n", std::to_string(i)), [&, i](Result<Message> r) {
      ASSERT_TRUE(r);
      EXPECT_EQ(*r->get_int("n"), i);
      order.push_back(std::to_string(i));
    });
  }
  ASSERT_TRUE(run_until([&] { return order.size() == 20; }));
  EXPECT_FALSE(charon_.saw_overlapping_commands());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], std::to_string(i));
}

TEST_F(ViciClientTest, DelayedRepliesStillSerialise) {
  // The server answers each "slow" request 20 ms later; the next request must not
  // be sent before that.
  std::vector<std::unique_ptr<boost::asio::steady_timer>> timers;
  charon_.on_command("slow", [&](FakeCharon::Session& session, const Message& request) {
    auto timer = std::make_unique<boost::asio::steady_timer>(io_, 20ms);
    timer->async_wait([&, &s = session, request](const boost::system::error_code&) {
      charon_.send(s, Packet::response(request));
    });
    timers.push_back(std::move(timer));
    return std::vector<Packet>{};
  });
  start_connected();
  int done = 0;
  for (int i = 0; i < 5; ++i) {
    client_->call("slow", with("n", std::to_string(i)), [&](Result<Message> r) {
      EXPECT_TRUE(r);
      ++done;
    });
  }
  ASSERT_TRUE(run_until([&] { return done == 5; }));
  EXPECT_FALSE(charon_.saw_overlapping_commands());
}

TEST_F(ViciClientTest, StreamedCommandCollectsEveryEventAndUnregisters) {
  start_connected();
  std::optional<Result<StreamedReply>> reply;
  client_->call_streamed("list-sas", "list-sa", {},
                         [&](Result<StreamedReply> r) { reply = std::move(r); });
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  ASSERT_TRUE(*reply) << reply->error();
  ASSERT_EQ((*reply)->events.size(), 3u);
  EXPECT_TRUE((*reply)->events[2].contains("ike2"));
  EXPECT_EQ(charon_.registrations("list-sa"), 1);
  // Unregistered afterwards: no session still holds list-sa.
  for (auto& session : charon_.sessions()) EXPECT_EQ(session->registered.count("list-sa"), 0u);
  // And the connection is still in step for the next command.
  std::optional<Result<Message>> next;
  client_->call("version", {}, [&](Result<Message> r) { next = std::move(r); });
  ASSERT_TRUE(run_until([&] { return next.has_value(); }));
  EXPECT_TRUE(*next);
}

TEST_F(ViciClientTest, LateStreamEventDuringUnregisterIsIgnored) {
  charon_.set_late_event_on_unregister(true);
  start_connected();
  std::optional<Result<StreamedReply>> reply;
  client_->call_streamed("list-sas", "list-sa", {},
                         [&](Result<StreamedReply> r) { reply = std::move(r); });
  std::optional<Result<Message>> next;
  client_->call("version", {}, [&](Result<Message> r) { next = std::move(r); });
  ASSERT_TRUE(run_until([&] { return next.has_value(); }));
  ASSERT_TRUE(*reply);
  EXPECT_EQ((*reply)->events.size(), 3u);
  EXPECT_TRUE(*next);
  EXPECT_EQ(disconnected_, 0);
}

TEST_F(ViciClientTest, UnknownCommandIsAnErrorAndTheConnectionStays) {
  start_connected();
  std::optional<Result<Message>> reply;
  client_->call("no-such-command", {}, [&](Result<Message> r) { reply = std::move(r); });
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  ASSERT_FALSE(*reply);
  EXPECT_NE(reply->error().find("does not know command 'no-such-command'"), std::string::npos);
  std::optional<Result<StreamedReply>> streamed;
  client_->call_streamed("no-such-stream", "list-sa", {},
                         [&](Result<StreamedReply> r) { streamed = std::move(r); });
  ASSERT_TRUE(run_until([&] { return streamed.has_value(); }));
  EXPECT_FALSE(*streamed);
  for (auto& session : charon_.sessions()) EXPECT_EQ(session->registered.count("list-sa"), 0u);
  EXPECT_EQ(disconnected_, 0);
}

TEST_F(ViciClientTest, StreamedCommandNeedsAStreamEvent) {
  start_connected();
  std::optional<Result<StreamedReply>> reply;
  client_->call_streamed("list-sas", "", {}, [&](Result<StreamedReply> r) { reply = std::move(r); });
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  EXPECT_FALSE(*reply);
  EXPECT_TRUE(charon_.commands_seen().empty());
}

TEST_F(ViciClientTest, UnknownStreamEventIsAnError) {
  start_connected();
  std::optional<Result<StreamedReply>> reply;
  client_->call_streamed("list-sas", "no-such-event", {},
                         [&](Result<StreamedReply> r) { reply = std::move(r); });
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  ASSERT_FALSE(*reply);
  EXPECT_NE(reply->error().find("no-such-event"), std::string::npos);
}

TEST_F(ViciClientTest, StreamEventLimitIsEnforcedButDrained) {
  options_.max_stream_events = 2;
  start_connected();
  std::optional<Result<StreamedReply>> reply;
  client_->call_streamed("list-sas", "list-sa", {},
                         [&](Result<StreamedReply> r) { reply = std::move(r); });
  std::optional<Result<Message>> next;
  client_->call("version", {}, [&](Result<Message> r) { next = std::move(r); });
  ASSERT_TRUE(run_until([&] { return next.has_value(); }));
  EXPECT_FALSE(*reply);
  EXPECT_TRUE(*next);
}

TEST_F(ViciClientTest, TimeoutFailsTheCommandAndQueueThenReconnects) {
  start_connected();
  std::optional<Result<Message>> hung;
  std::optional<Result<Message>> queued;
  client_->call("hang", {}, [&](Result<Message> r) { hung = std::move(r); },
                CommandOptions{.timeout = 50ms});
  client_->call("version", {}, [&](Result<Message> r) { queued = std::move(r); });
  ASSERT_TRUE(run_until([&] { return hung.has_value() && queued.has_value(); }));
  ASSERT_FALSE(*hung);
  EXPECT_NE(hung->error().find("timed out"), std::string::npos);
  EXPECT_FALSE(*queued);
  EXPECT_EQ(disconnected_, 1);
  // The client resynchronises on a new connection and works again.
  ASSERT_TRUE(run_until([&] { return connected_ == 2; }));
  EXPECT_EQ(charon_.registrations("ike-updown"), 2);
  std::optional<Result<Message>> after;
  client_->call("version", {}, [&](Result<Message> r) { after = std::move(r); });
  ASSERT_TRUE(run_until([&] { return after.has_value(); }));
  EXPECT_TRUE(*after);
}

TEST_F(ViciClientTest, DeliversSubscribedEvents) {
  start_connected();
  Message up;
  up.set("up", "yes").section("azure").set("state", "ESTABLISHED");
  charon_.emit("ike-updown", up);
  charon_.emit("child-updown", with("up", "yes"));
  charon_.emit("log", with("msg", "not subscribed"));
  ASSERT_TRUE(run_until([&] { return events_.size() == 2; }));
  EXPECT_EQ(events_[0].first, "ike-updown");
  EXPECT_EQ(events_[0].second, up);
  EXPECT_EQ(events_[1].first, "child-updown");
}

TEST_F(ViciClientTest, EventsDoNotDisturbCommands) {
  start_connected();
  int replies = 0;
  for (int i = 0; i < 10; ++i) {
    charon_.emit("ike-updown", with("n", std::to_string(i)));
    client_->call("echo", with("n", std::to_string(i)), [&](Result<Message> r) {
      EXPECT_TRUE(r);
      ++replies;
    });
  }
  ASSERT_TRUE(run_until([&] { return replies == 10 && events_.size() == 10; }));
}

TEST_F(ViciClientTest, UnknownSubscriptionIsReportedNotFatal) {
  options_.events = {"ike-updown", "alert"};  // "alert" only exists from 6.0.3
  start_connected();
  EXPECT_TRUE(client_->connected());
  bool reported = false;
  ASSERT_TRUE(run_until([&] {
    for (const auto& d : diagnostics_) reported = reported || d.find("'alert'") != std::string::npos;
    return reported;
  }));
}

TEST_F(ViciClientTest, CharonGoingAwayAndComingBack) {
  start_connected();
  std::optional<Result<Message>> pending;
  client_->call("hang", {}, [&](Result<Message> r) { pending = std::move(r); });
  ASSERT_TRUE(run_until([&] { return !charon_.commands_seen().empty(); }));

  charon_.shut_down();
  ASSERT_TRUE(run_until([&] { return disconnected_ == 1 && pending.has_value(); }));
  EXPECT_FALSE(*pending);
  EXPECT_FALSE(client_->connected());
  EXPECT_NE(last_disconnect_reason_.find("closed"), std::string::npos) << last_disconnect_reason_;
  // While charon is away, commands fail at once (the caller re-applies on connect).
  std::optional<Result<Message>> offline;
  client_->call("version", {}, [&](Result<Message> r) { offline = std::move(r); });
  ASSERT_TRUE(run_until([&] { return offline.has_value(); }));
  EXPECT_FALSE(*offline);
  // Let a few reconnect attempts fail, then bring charon back.
  ASSERT_TRUE(run_until([&] { return diagnostics_.size() >= 4; }));
  charon_.listen();
  ASSERT_TRUE(run_until([&] { return connected_ == 2; }));
  EXPECT_EQ(charon_.registrations("ike-updown"), 2);
  EXPECT_EQ(charon_.registrations("child-updown"), 2);
  charon_.emit("ike-updown", with("up", "yes"));
  ASSERT_TRUE(run_until([&] { return events_.size() == 1; }));
}

TEST_F(ViciClientTest, ProtocolViolationReconnects) {
  start_connected();
  // A reply nobody asked for: the stream can no longer be trusted.
  charon_.send(*charon_.sessions()[0], Packet::response());
  ASSERT_TRUE(run_until([&] { return disconnected_ == 1; }));
  ASSERT_TRUE(run_until([&] { return connected_ == 2; }));
}

TEST_F(ViciClientTest, OversizeSegmentHeaderReconnects) {
  start_connected();
  charon_.send_raw(*charon_.sessions()[1], std::string("\x7f\xff\xff\xff", 4));
  ASSERT_TRUE(run_until([&] { return disconnected_ == 1; }));
  EXPECT_NE(last_disconnect_reason_.find("512 KiB"), std::string::npos);
  ASSERT_TRUE(run_until([&] { return connected_ == 2; }));
}

TEST_F(ViciClientTest, OversizeRequestFailsWithoutTouchingTheConnection) {
  start_connected();
  std::optional<Result<Message>> reply;
  client_->call("echo", with("data", std::string(70000, 's')),
                [&](Result<Message> r) { reply = std::move(r); }, CommandOptions{.timeout = std::nullopt, .sensitive = true});
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  ASSERT_FALSE(*reply);
  EXPECT_EQ(reply->error().find("sss"), std::string::npos);
  EXPECT_TRUE(client_->connected());
  EXPECT_TRUE(charon_.commands_seen().empty());
}

TEST_F(ViciClientTest, StopFailsPendingAndDoesNotReconnect) {
  start_connected();
  std::optional<Result<Message>> pending;
  client_->call("hang", {}, [&](Result<Message> r) { pending = std::move(r); });
  client_->stop();
  ASSERT_TRUE(run_until([&] { return pending.has_value() && disconnected_ == 1; }));
  EXPECT_FALSE(*pending);
  io_.restart();
  io_.run_for(100ms);
  EXPECT_EQ(charon_.accepted(), 2);
}

TEST_F(ViciClientTest, DestroyingTheClientDropsCallbacks) {
  start_connected();
  bool called = false;
  client_->call("hang", {}, [&](Result<Message>) { called = true; });
  client_.reset();
  io_.restart();
  io_.run_for(50ms);
  EXPECT_FALSE(called);
}

TEST_F(ViciClientTest, ConnectFailureBacksOffAndRetries) {
  make_client();  // nothing listens yet
  client_->start();
  ASSERT_TRUE(run_until([&] { return diagnostics_.size() >= 3; }));
  EXPECT_EQ(connected_, 0);
  EXPECT_EQ(disconnected_, 0);  // never connected, so never "disconnected"
  EXPECT_NE(diagnostics_[0].find("cannot connect"), std::string::npos);
  charon_.listen();
  ASSERT_TRUE(run_until([&] { return connected_ == 1; }));
}

}  // namespace
}  // namespace ergw::vici
