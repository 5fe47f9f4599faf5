// The vici client against real charon 5.9.8 daemons (label "lab"): commands,
// streamed commands, events, a tunnel between two charons, and a charon crash and
// restart with reconnection and re-subscription. Needs root; skips with the
// reason when a prerequisite is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "tests/vici/lab_charon.h"
#include "tests/vici/run_until.h"
#include "vici/client.h"
#include "vici/commands.h"

namespace ergw::vici {
namespace {

using namespace std::chrono_literals;

// Not a real deployment key; it only has to match on both lab charons.
constexpr const char* kLabPsk = "ergw-lab-only-psk-0123456789";

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// A connection between the two namespaces, 192.0.2.1 <-> 192.0.2.2.
Section lab_conn(const std::string& local, const std::string& remote, const std::string& local_ts,
                 const std::string& remote_ts) {
  Section conn;
  conn.set("version", "2");
  conn.set_list("local_addrs", {local}).set_list("remote_addrs", {remote});
  conn.set_list("proposals", {"aes256-sha256-modp2048"});
  conn.section("local-1").set("auth", "psk").set("id", local);
  conn.section("remote-1").set("auth", "psk").set("id", remote);
  Section& child = conn.section("children").section("net");
  child.set_list("local_ts", {local_ts}).set_list("remote_ts", {remote_ts});
  child.set_list("esp_proposals", {"aes256-sha256"});
  return conn;
}

class ViciCharonLab : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = lab::missing_prerequisite();
    if (!missing.empty()) GTEST_SKIP() << missing;
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    netns_ = std::make_unique<lab::NamespacePair>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name()[0] == 'T' ? "t" : "c");
    if (!netns_->ok()) GTEST_SKIP() << "cannot build namespaces: " << netns_->error();
    charon_a_ = std::make_unique<lab::Charon>(netns_->a(), dir_.path(), "a");
    charon_b_ = std::make_unique<lab::Charon>(netns_->b(), dir_.path(), "b");
  }

  void TearDown() override {
    // Clients first (they hold sockets), then daemons, then namespaces, then files.
    client_a_.reset();
    client_b_.reset();
    if (HasFailure() && charon_a_) {
      std::cout << "--- charon a log ---\n" << charon_a_->log_tail() << "--- charon b log ---\n"
                << charon_b_->log_tail();
    }
    charon_a_.reset();
    charon_b_.reset();
    netns_.reset();
  }

  std::unique_ptr<Client> make_client(const lab::Charon& charon, std::vector<std::string> events,
                                      int* connected, int* disconnected) {
    ClientOptions options;
    options.socket_path = charon.socket_path();
    options.events = std::move(events);
    options.reconnect_initial_delay = 50ms;
    options.reconnect_max_delay = 500ms;
    options.command_timeout = 20s;
    auto client = std::make_unique<Client>(io_.get_executor(), options);
    client->on_connected([connected] { ++*connected; });
    client->on_disconnected([disconnected](const std::string&) { ++*disconnected; });
    return client;
  }

  template <typename Pred>
  bool run_until(Pred done, std::chrono::seconds limit = 30s) {
    return testing::run_until(io_, done, limit, 10ms);
  }

  // Runs an asynchronous wrapper to completion and returns its result.
  template <typename R, typename Start>
  R await(Start start) {
    std::optional<R> slot;
    start([&](R result) { slot.emplace(std::move(result)); });
    if (!run_until([&] { return slot.has_value(); })) {
      ADD_FAILURE() << "no reply within the bound";
      return Error{"no reply"};
    }
    return std::move(*slot);
  }

  Status load_side(Client& client, const std::string& local, const std::string& remote,
                   const std::string& local_ts, const std::string& remote_ts) {
    SharedKeyInfo key{"lab-psk", "IKE", {local, remote}};
    Status loaded = await<Status>([&](auto done) { load_shared(client, key, kLabPsk, done); });
    if (!loaded) return loaded;
    return await<Status>([&](auto done) {
      load_conn(client, "lab", lab_conn(local, remote, local_ts, remote_ts), done);
    });
  }

  boost::asio::io_context io_;
  lab::TempDir dir_;
  std::unique_ptr<lab::NamespacePair> netns_;
  std::unique_ptr<lab::Charon> charon_a_;
  std::unique_ptr<lab::Charon> charon_b_;
  std::unique_ptr<Client> client_a_;
  std::unique_ptr<Client> client_b_;
};

TEST_F(ViciCharonLab, CommandsAgainstRealCharon) {
  charon_a_->start();
  int connected = 0;
  int disconnected = 0;
  client_a_ = make_client(*charon_a_, {"ike-updown", "child-updown", "ike-rekey", "child-rekey",
                                       "log"},
                          &connected, &disconnected);
  client_a_->start();
  ASSERT_TRUE(run_until([&] { return connected == 1; })) << "no connection to charon";

  Result<VersionInfo> info = await<Result<VersionInfo>>([&](auto done) { version(*client_a_, done); });
  ASSERT_TRUE(info) << info.error();
  EXPECT_EQ(info->daemon, "charon");
  EXPECT_EQ(info->version.rfind("5.", 0), 0u) << info->version;

  Result<StatsInfo> st = await<Result<StatsInfo>>([&](auto done) { stats(*client_a_, done); });
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->ikesas_total, 0u);
  EXPECT_TRUE(contains(st->plugins, "vici"));
  EXPECT_TRUE(contains(st->plugins, "kernel-libipsec"));

  ASSERT_TRUE(load_side(*client_a_, "192.0.2.1", "192.0.2.2", "10.10.1.0/24", "10.10.2.0/24"));
  auto shared = await<Result<std::vector<std::string>>>([&](auto done) { get_shared(*client_a_, done); });
  ASSERT_TRUE(shared) << shared.error();
  EXPECT_TRUE(contains(*shared, "lab-psk"));
  auto conns = await<Result<std::vector<std::string>>>([&](auto done) { get_conns(*client_a_, done); });
  ASSERT_TRUE(conns) << conns.error();
  EXPECT_EQ(*conns, (std::vector<std::string>{"lab"}));

  auto listed = await<Result<std::vector<ConnInfo>>>(
      [&](auto done) { list_conns(*client_a_, std::nullopt, done); });
  ASSERT_TRUE(listed) << listed.error();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).name, "lab");
  EXPECT_EQ(listed->at(0).remote_addrs, (std::vector<std::string>{"192.0.2.2"}));
  EXPECT_EQ(listed->at(0).version, "IKEv2");
  EXPECT_EQ(listed->at(0).children, (std::vector<std::string>{"net"}));

  // charon refuses unknown keys and we carry its message.
  Section bogus = lab_conn("192.0.2.1", "192.0.2.2", "10.10.1.0/24", "10.10.2.0/24");
  bogus.set("no_such_option", "1");
  Status refused = await<Status>([&](auto done) { load_conn(*client_a_, "bad", bogus, done); });
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("unknown option"), std::string::npos) << refused.error();
  // A streamed command with nothing to stream still completes.
  auto sas = await<Result<std::vector<IkeSaInfo>>>([&](auto done) { list_sas(*client_a_, {}, done); });
  ASSERT_TRUE(sas) << sas.error();
  EXPECT_TRUE(sas->empty());
  // Unknown command.
  auto unknown = await<Result<Message>>(
      [&](auto done) { client_a_->call("no-such-command", {}, done); });
  EXPECT_FALSE(unknown);

  EXPECT_TRUE(await<Status>([&](auto done) { unload_conn(*client_a_, "lab", done); }));
  EXPECT_TRUE(await<Status>([&](auto done) { unload_shared(*client_a_, "lab-psk", done); }));
  conns = await<Result<std::vector<std::string>>>([&](auto done) { get_conns(*client_a_, done); });
  ASSERT_TRUE(conns);
  EXPECT_TRUE(conns->empty());
  shared = await<Result<std::vector<std::string>>>([&](auto done) { get_shared(*client_a_, done); });
  ASSERT_TRUE(shared);
  EXPECT_FALSE(contains(*shared, "lab-psk"));
  EXPECT_EQ(disconnected, 0);
}

TEST_F(ViciCharonLab, TunnelEventsAndRestart) {
  charon_a_->start();
  charon_b_->start();
  int a_connected = 0, a_disconnected = 0, b_connected = 0, b_disconnected = 0;
  std::vector<std::pair<std::string, Message>> events;
  client_a_ = make_client(*charon_a_, {"ike-updown", "child-updown", "ike-rekey", "child-rekey",
                                       "log"},
                          &a_connected, &a_disconnected);
  client_a_->on_event([&](const std::string& name, const Message& message) {
    events.emplace_back(name, message);
  });
  client_b_ = make_client(*charon_b_, {}, &b_connected, &b_disconnected);
  client_a_->start();
  client_b_->start();
  ASSERT_TRUE(run_until([&] { return a_connected == 1 && b_connected == 1; }));

  ASSERT_TRUE(load_side(*client_b_, "192.0.2.2", "192.0.2.1", "10.10.2.0/24", "10.10.1.0/24"));
  ASSERT_TRUE(load_side(*client_a_, "192.0.2.1", "192.0.2.2", "10.10.1.0/24", "10.10.2.0/24"));

  auto count = [&](const std::string& name, bool up) {
    return std::count_if(events.begin(), events.end(), [&](const auto& e) {
      return e.first == name && e.second.get_bool("up").value_or(false) == up;
    });
  };

  InitiateRequest request;
  request.child = "net";
  request.timeout_ms = 15000;
  auto log = await<Result<std::vector<ControlLogLine>>>(
      [&](auto done) { initiate(*client_a_, request, done); });
  ASSERT_TRUE(log) << log.error();
  EXPECT_FALSE(log->empty());  // control-log was streamed and drained
  ASSERT_TRUE(run_until([&] { return count("ike-updown", true) == 1 && count("child-updown", true) == 1; }));
  EXPECT_TRUE(std::any_of(events.begin(), events.end(),
                          [](const auto& e) { return e.first == "log"; }));
  Result<UpDownEvent> up = parse_updown_event(
      std::find_if(events.begin(), events.end(), [](const auto& e) { return e.first == "ike-updown"; })
          ->second);
  ASSERT_TRUE(up) << up.error();
  EXPECT_TRUE(up->up);
  EXPECT_EQ(up->ike_sa.name, "lab");

  auto sas = await<Result<std::vector<IkeSaInfo>>>([&](auto done) { list_sas(*client_a_, {}, done); });
  ASSERT_TRUE(sas) << sas.error();
  ASSERT_EQ(sas->size(), 1u);
  const IkeSaInfo& ike = sas->at(0);
  EXPECT_EQ(ike.name, "lab");
  EXPECT_EQ(ike.state, IkeSaState::established);
  EXPECT_EQ(ike.local_host, "192.0.2.1");
  EXPECT_EQ(ike.remote_host, "192.0.2.2");
  EXPECT_EQ(ike.encr_alg, "AES_CBC");
  EXPECT_EQ(ike.encr_keysize, 256u);
  EXPECT_EQ(ike.integ_alg, "HMAC_SHA2_256_128");
  EXPECT_EQ(ike.prf_alg, "PRF_HMAC_SHA2_256");
  EXPECT_EQ(ike.dh_group, "MODP_2048");
  EXPECT_TRUE(ike.established.has_value());
  EXPECT_TRUE(ike.rekey_time.has_value());
  ASSERT_EQ(ike.child_sas.size(), 1u);
  const ChildSaInfo& child = ike.child_sas[0];
  EXPECT_EQ(child.name, "net");
  EXPECT_EQ(child.state, ChildSaState::installed);
  EXPECT_EQ(child.protocol, "ESP");
  EXPECT_EQ(child.spi_in.size(), 8u);
  EXPECT_EQ(child.spi_out.size(), 8u);
  EXPECT_EQ(child.encr_alg, "AES_CBC");
  EXPECT_EQ(child.integ_alg, "HMAC_SHA2_256_128");
  EXPECT_TRUE(child.install_time.has_value());
  EXPECT_TRUE(child.rekey_time.has_value());
  EXPECT_EQ(child.local_ts, (std::vector<std::string>{"10.10.1.0/24"}));
  EXPECT_EQ(child.remote_ts, (std::vector<std::string>{"10.10.2.0/24"}));

  RekeyRequest rekey_request;
  rekey_request.child = "net";
  auto matches = await<Result<uint64_t>>([&](auto done) { rekey(*client_a_, rekey_request, done); });
  ASSERT_TRUE(matches) << matches.error();
  EXPECT_EQ(*matches, 1u);
  ASSERT_TRUE(run_until([&] {
    return std::any_of(events.begin(), events.end(),
                       [](const auto& e) { return e.first == "child-rekey"; });
  }));

  TerminateRequest terminate_request;
  terminate_request.ike = "lab";
  terminate_request.timeout_ms = 10000;
  auto terminated = await<Result<TerminateResult>>(
      [&](auto done) { terminate(*client_a_, terminate_request, done); });
  ASSERT_TRUE(terminated) << terminated.error();
  EXPECT_EQ(terminated->terminated, 1u);
  ASSERT_TRUE(run_until([&] { return count("ike-updown", false) == 1; }));

  // charon crashes: the client notices, reports it, and comes back when charon does.
  charon_a_->kill_hard();
  ASSERT_TRUE(run_until([&] { return a_disconnected == 1; }));
  EXPECT_FALSE(client_a_->connected());
  charon_a_->start();
  ASSERT_TRUE(run_until([&] { return a_connected == 2; })) << "no reconnect after restart";
  // The new charon is empty; the controller would re-apply its state here.
  auto conns = await<Result<std::vector<std::string>>>([&](auto done) { get_conns(*client_a_, done); });
  ASSERT_TRUE(conns) << conns.error();
  EXPECT_TRUE(conns->empty());
  ASSERT_TRUE(load_side(*client_a_, "192.0.2.1", "192.0.2.2", "10.10.1.0/24", "10.10.2.0/24"));
  log = await<Result<std::vector<ControlLogLine>>>(
      [&](auto done) { initiate(*client_a_, request, done); });
  ASSERT_TRUE(log) << log.error();
  // Events arrive again: the subscriptions were re-registered on the new charon.
  ASSERT_TRUE(run_until([&] { return count("ike-updown", true) == 2; }));
}

}  // namespace
}  // namespace ergw::vici
