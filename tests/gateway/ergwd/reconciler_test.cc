// The reconciler against the fake charon (tests/vici/fake_charon), without
// root: a scripted charon that holds connections, keys and SAs and can refuse
// a PSK or a connection; fake tunnel routes; a fake clock.
#include "gateway/ergwd/reconciler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>

#include <boost/asio/io_context.hpp>

#include "gateway/ergwd/status.h"
#include "tests/common/fake_clock.h"
#include "tests/gateway/ergwd/sa_messages.h"
#include "tests/vici/fake_charon.h"
#include "tests/vici/run_until.h"
#include "vici/commands.h"

namespace ergw::gateway {
namespace {

using namespace std::chrono_literals;
using testing::IkeSpec;
using vici::Message;
using vici::Packet;
using vici::testing::FakeCharon;

using vici::testing::failure_reply;
using vici::testing::success_reply;

// What charon holds, as far as ergwd's commands go.
class ScriptedCharon {
 public:
  explicit ScriptedCharon(FakeCharon& fake) : fake_(fake) { install(); }

  // Everything goes, as when charon restarts.
  void forget_everything() {
    conns.clear();
    keys.clear();
    sas.clear();
  }
  size_t count(const std::string& command) const {
    return static_cast<size_t>(std::count_if(seen.begin(), seen.end(), [&](auto& s) { return s.first == command; }));
  }
  // The `key` of every `command` request, in order.
  std::vector<std::string> values(const std::string& command, const std::string& key) const {
    std::vector<std::string> out;
    for (const auto& [name, request] : seen) {
      if (name == command) out.emplace_back(request.string_or(key, ""));
    }
    return out;
  }
  // The connection names load-conn was given, in order.
  std::vector<std::string> loaded_names() const {
    std::vector<std::string> out;
    for (const auto& [name, request] : seen) {
      if (name == "load-conn" && !request.entries().empty()) out.push_back(request.entries().front().name);
    }
    return out;
  }

  std::set<std::string> conns;
  std::set<std::string> keys;
  std::vector<IkeSpec> sas;
  int refuse_next_shared = 0;
  int refuse_next_conn = 0;
  std::vector<std::pair<std::string, Message>> seen;

 private:
  void on(const std::string& command, std::function<Message(const Message&)> reply) {
    fake_.on_command(command, [this, command, reply](FakeCharon::Session&, const Message& request) {
      seen.emplace_back(command, request);
      return std::vector<Packet>{Packet::response(reply(request))};
    });
  }

  void install() {
    on("get-conns", [this](const Message&) {
      Message m;
      m.set_list("conns", std::vector<std::string>(conns.begin(), conns.end()));
      return m;
    });
    on("load-shared", [this](const Message& r) {
      if (refuse_next_shared > 0) {
        --refuse_next_shared;
        return failure_reply("loading shared key failed");
      }
      keys.insert(std::string(r.string_or("id", "")));
      return success_reply();
    });
    on("load-conn", [this](const Message& r) {
      if (refuse_next_conn > 0) {
        --refuse_next_conn;
        return failure_reply("invalid value for: proposals, config discarded");
      }
      conns.insert(r.entries().front().name);
      return success_reply();
    });
    on("unload-conn", [this](const Message& r) {
      conns.erase(std::string(r.string_or("name", "")));
      return success_reply();
    });
    on("unload-shared", [this](const Message& r) {
      keys.erase(std::string(r.string_or("id", "")));
      return success_reply();
    });
    on("initiate", [](const Message&) { return success_reply(); });
    on("rekey", [](const Message&) {
      Message m = success_reply();
      m.set("matches", "1");
      return m;
    });
    on("terminate", [](const Message&) {
      Message m = success_reply();
      m.set("matches", "1").set("terminated", "1");
      return m;
    });
    fake_.on_command("list-sas", [this](FakeCharon::Session&, const Message& request) {
      seen.emplace_back("list-sas", request);
      std::vector<Packet> packets;
      for (const auto& sa : sas) packets.push_back(Packet::event("list-sa", testing::list_sa_event(sa)));
      packets.push_back(Packet::response());
      return packets;
    });
  }

  FakeCharon& fake_;
};

class RecordingRoutes final : public TunnelRoutes {
 public:
  bool device_exists(const std::string& device) override { return devices.count(device) != 0; }
  Status create_xfrm_interface(const std::string& device, uint32_t) override {
    devices.insert(device);
    return Status::success();
  }
  Status replace_route(const IpPrefix& prefix, const std::vector<std::string>& over) override {
    for (const auto& device : over) {
      if (!devices.count(device)) return Error{"no device " + device, ErrorCode::not_found};
    }
    erase(prefix);
    for (const auto& device : over) routes.insert({prefix.to_string(), device});
    return Status::success();
  }
  Status delete_route(const IpPrefix& prefix, const std::vector<std::string>&) override {
    erase(prefix);
    return Status::success();
  }
  void erase(const IpPrefix& prefix) {
    std::erase_if(routes, [&](const auto& r) { return r.first == prefix.to_string(); });
  }
  std::set<std::string> devices{"ipsec0"};
  std::set<std::pair<std::string, std::string>> routes;
};

ConnectionPlan plan(const std::string& name, const std::string& remote, std::vector<std::string> children,
                    const std::string& version = "v1") {
  ConnectionPlan p;
  p.name = name;
  p.conn.set("version", "2").set_list("remote_addrs", {remote});
  p.secret.name = "ike-" + name;
  p.secret.owners = {"172.16.0.1", remote};
  p.secret.secret = Secret(std::string("test-psk-of-") + name);
  p.fingerprint = name + "-" + version;
  // Another version: other IKE settings (a new IKE SA brings them in).
  if (version != "v1") p.conn.set("rekey_time", version);
  p.dial = true;
  p.peer_dials = true;
  p.children = std::move(children);
  p.if_id = 1;
  p.remote = remote;
  p.local_id = "172.16.0.1";
  p.remote_id = remote;
  p.routes = {*IpPrefix::parse("10.0." + std::to_string(remote.back() - '0') + ".0/24")};
  return p;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest()
      : path_("/tmp/ergw-reconciler-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sock"),
        fake_(io_, path_),
        charon_(fake_) {
    fake_.listen();
    vici::ClientOptions options;
    options.socket_path = path_;
    options.events = {"ike-updown", "child-updown", "ike-rekey", "child-rekey", "log"};
    options.reconnect_initial_delay = 10ms;
    options.reconnect_max_delay = 50ms;
    client_ = std::make_unique<vici::Client>(io_.get_executor(), options);
    DataPlaneChoice libipsec;
    libipsec.kind = DataPlaneKind::libipsec;
    reconciler_ = std::make_unique<Reconciler>(clock_, *client_, libipsec, routes_, options_);
    client_->on_connected([this] { reconciler_->charon_connected(); });
    client_->on_disconnected([this](const std::string& why) { reconciler_->charon_disconnected(why); });
    client_->on_event([this](const std::string& name, const Message& m) { reconciler_->charon_event(name, m); });
  }

  ~ReconcilerTest() override {
    reconciler_.reset();
    client_.reset();
  }

  void start(std::vector<ConnectionPlan> plans) {
    reconciler_->set_desired(std::move(plans));
    client_->start();
    ASSERT_TRUE(run_until([&] { return reconciler_->passes() >= 1; })) << "no pass";
    settle();
  }

  // Requests a pass and waits until it (and any it queued) completed.
  void pass() {
    const auto before = reconciler_->passes();
    reconciler_->request_pass();
    ASSERT_TRUE(run_until([&] { return reconciler_->passes() > before; })) << "no pass";
    settle();
  }

  // A pass is complete before charon has received what it sent without
  // waiting (initiate, terminate). The client sends one request at a time, in
  // order: once a request sent now is answered, charon has seen them all.
  void settle() {
    auto answered = std::make_shared<bool>(false);
    vici::get_conns(*client_, [answered](Result<std::vector<std::string>>) { *answered = true; });
    ASSERT_TRUE(run_until([&] { return *answered; })) << "charon did not answer";
  }

  // Real time for the socket to the fake charon; the fake clock fires only
  // what is due now (a pass requested without delay), never a later timer.
  template <typename Pred>
  bool run_until(Pred done, std::chrono::seconds limit = 10s) {
    return vici::testing::run_until(
        io_,
        [&] {
          clock_.advance(0ms);
          return done();
        },
        limit, 2ms);
  }

  const FailureRecord* last_error(const std::string& connection) const {
    const auto* h = reconciler_->health().find(connection);
    return h && h->last_error ? &*h->last_error : nullptr;
  }

  StatusSnapshot snapshot() {
    std::vector<vici::IkeSaInfo> sas;
    for (const auto& s : charon_.sas) sas.push_back(testing::ike_sa(s));
    return take_snapshot(*reconciler_, sas, "", clock_.wall_now());
  }

  boost::asio::io_context io_;
  std::string path_;
  FakeCharon fake_;
  ScriptedCharon charon_;
  RecordingRoutes routes_;
  ergw::testing::FakeClock clock_{io_};
  const ReconcilerOptions options_{};  // a redial 2 s after a tunnel went down
  std::unique_ptr<vici::Client> client_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(ReconcilerTest, LoadsThePskBeforeTheConnectionThenDialsAndRoutes) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  EXPECT_EQ(charon_.conns, std::set<std::string>{"hub"});
  EXPECT_EQ(charon_.keys, std::set<std::string>{"ike-hub"});
  std::vector<std::string> order;
  for (const auto& [command, request] : charon_.seen) {
    if (command == "load-shared" || command == "load-conn" || command == "initiate") order.push_back(command);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"load-shared", "load-conn", "initiate"}));
  EXPECT_EQ(charon_.values("initiate", "child"), std::vector<std::string>{"hub"});
  EXPECT_EQ(reconciler_->loaded().at("hub"), "hub-v1");
  EXPECT_TRUE(routes_.routes.count({"10.0.2.0/24", "ipsec0"}));
  // The PSK went to charon, and nowhere else.
  EXPECT_EQ(charon_.values("load-shared", "data"), std::vector<std::string>{"test-psk-of-hub"});
}

// The fix: a refused load-shared used to be logged while the connection was
// recorded as applied, so it was never tried again.
TEST_F(ReconcilerTest, RefusedPskIsRetriedByTheNextPassThenAccepted) {
  charon_.refuse_next_shared = 1;
  start({plan("hub", "172.16.0.2", {"hub"})});
  EXPECT_EQ(charon_.count("load-shared"), 1u);
  EXPECT_EQ(charon_.count("load-conn"), 0u) << "no connection without its key";
  EXPECT_EQ(charon_.count("initiate"), 0u);
  EXPECT_EQ(reconciler_->loaded().count("hub"), 0u);
  const auto* f = last_error("hub");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->failure, TunnelFailure::key_refused);
  EXPECT_EQ(f->at, clock_.wall_now());
  EXPECT_EQ(f->detail.find("test-psk"), std::string::npos) << "the key is in no error";

  clock_.advance(10s);
  pass();
  EXPECT_EQ(charon_.count("load-shared"), 2u);
  EXPECT_EQ(charon_.count("load-conn"), 1u);
  EXPECT_EQ(charon_.count("initiate"), 1u);
  EXPECT_EQ(reconciler_->loaded().at("hub"), "hub-v1");
  EXPECT_EQ(last_error("hub"), nullptr) << "the refusal is over";
  // Applied now: a further pass loads nothing.
  pass();
  EXPECT_EQ(charon_.count("load-shared"), 2u);
}

TEST_F(ReconcilerTest, RefusedConnectionIsRecordedAndRetried) {
  charon_.refuse_next_conn = 1;
  start({plan("hub", "172.16.0.2", {"hub"})});
  ASSERT_NE(last_error("hub"), nullptr);
  EXPECT_EQ(last_error("hub")->failure, TunnelFailure::configuration_refused);
  EXPECT_NE(last_error("hub")->detail.find("invalid value for: proposals"), std::string::npos);
  EXPECT_EQ(charon_.count("initiate"), 0u);
  pass();
  EXPECT_EQ(charon_.conns, std::set<std::string>{"hub"});
  EXPECT_EQ(last_error("hub"), nullptr);
  EXPECT_EQ(charon_.count("initiate"), 1u);
}

// The management API's apply waits for the next pass and reports what charon
// refused in it, per connection; the pass's duration goes to its observer.
TEST_F(ReconcilerTest, AfterNextPassReportsWhatCharonRefused) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  std::vector<std::chrono::nanoseconds> durations;
  reconciler_->set_pass_observer([&](std::chrono::nanoseconds took) { durations.push_back(took); });
  charon_.refuse_next_conn = 1;
  bool done = false;
  reconciler_->after_next_pass([&] { done = true; });
  reconciler_->set_desired({plan("hub", "172.16.0.2", {"hub"}, "v2"), plan("spoke", "172.16.1.2", {"spoke"})});
  ASSERT_TRUE(run_until([&] { return done; })) << "no pass";
  ASSERT_FALSE(durations.empty());
  const auto hub = reconciler_->refusal("hub");
  const auto spoke = reconciler_->refusal("spoke");
  // One of the two loads was refused (the first load-conn of the pass).
  ASSERT_NE(hub.has_value(), spoke.has_value());
  EXPECT_NE((hub ? *hub : *spoke).find("invalid value for: proposals"), std::string::npos);
  EXPECT_FALSE(reconciler_->refusal("nothing").has_value());
  bool again = false;
  reconciler_->after_next_pass([&] { again = true; });
  reconciler_->request_pass();
  ASSERT_TRUE(run_until([&] { return again; }));
  EXPECT_FALSE(reconciler_->refusal("hub").has_value()) << "loaded by the next pass";
  EXPECT_FALSE(reconciler_->refusal("spoke").has_value());
}

TEST_F(ReconcilerTest, CharonRestartedGetsEverythingAgain) {
  start({plan("hub", "172.16.0.2", {"hub"}), plan("spoke", "172.16.0.3", {"spoke"})});
  EXPECT_EQ(charon_.count("load-conn"), 2u);
  pass();
  EXPECT_EQ(charon_.count("load-conn"), 2u) << "nothing changed, nothing loaded";

  // charon dies and comes back empty.
  const auto passes = reconciler_->passes();
  fake_.shut_down();
  charon_.forget_everything();
  ASSERT_TRUE(run_until([&] { return !reconciler_->charon_up(); }));
  EXPECT_TRUE(reconciler_->loaded().empty());
  fake_.listen();
  ASSERT_TRUE(run_until([&] { return reconciler_->charon_up() && reconciler_->passes() > passes; }));
  ASSERT_TRUE(run_until([&] { return charon_.conns.size() == 2; }));
  EXPECT_EQ(charon_.count("load-shared"), 4u);
  EXPECT_EQ(charon_.count("load-conn"), 4u);
  EXPECT_EQ(charon_.keys, (std::set<std::string>{"ike-hub", "ike-spoke"}));
  EXPECT_EQ(charon_.count("terminate"), 0u) << "a reload after a restart restarts no IKE SA";
}

TEST_F(ReconcilerTest, AReloadThatChangesOneOfThreeConnectionsTouchesOnlyThatOne) {
  start({plan("a", "172.16.0.2", {"a"}), plan("b", "172.16.0.3", {"b"}), plan("c", "172.16.0.4", {"c"})});
  // All three up.
  charon_.sas = {{.name = "a", .uniqueid = 1, .remote = "172.16.0.2", .children = {{.name = "a"}}},
                 {.name = "b", .uniqueid = 2, .remote = "172.16.0.3", .children = {{.name = "b"}}},
                 {.name = "c", .uniqueid = 3, .remote = "172.16.0.4", .children = {{.name = "c"}}}};
  pass();
  const auto seen_before = charon_.seen.size();
  const auto initiates_before = charon_.count("initiate");

  reconciler_->set_desired(
      {plan("a", "172.16.0.2", {"a"}), plan("b", "172.16.0.3", {"b"}, "v2"), plan("c", "172.16.0.4", {"c"})});
  ASSERT_TRUE(run_until([&] { return reconciler_->loaded().at("b") == "b-v2"; }));
  pass();
  std::vector<std::pair<std::string, Message>> after(charon_.seen.begin() + static_cast<long>(seen_before),
                                                     charon_.seen.end());
  std::vector<std::string> changes;
  for (const auto& [command, request] : after) {
    if (command == "load-shared") changes.push_back("load-shared " + std::string(request.string_or("id", "")));
    if (command == "load-conn") changes.push_back("load-conn " + request.entries().front().name);
    if (command == "terminate") changes.push_back("terminate " + std::string(request.string_or("ike", "")));
    if (command == "unload-conn") changes.push_back("unload-conn " + std::string(request.string_or("name", "")));
  }
  EXPECT_EQ(changes, (std::vector<std::string>{"load-shared ike-b", "load-conn b"}))
      << "make-before-break: nothing terminated before the new IKE SA is up";
  EXPECT_EQ(charon_.count("initiate"), initiates_before + 1) << "the new IKE SA of b, and nothing else dialled";
  EXPECT_EQ(charon_.values("initiate", "child").back(), "b");
  // b's new IKE SA is up: its old one (#2) goes, and only it.
  charon_.sas.push_back({.name = "b", .uniqueid = 4, .remote = "172.16.0.3", .children = {{.name = "b", .uniqueid = 4}}});
  clock_.advance(500ms);
  ASSERT_TRUE(run_until([&] { return charon_.count("terminate") == 1; }));
  EXPECT_EQ(charon_.values("terminate", "ike-id"), (std::vector<std::string>{"2"}));
  EXPECT_TRUE(reconciler_->changes_in_progress().empty());
  // Its down event is no tunnel going down: b stays up (routes, BGP).
  const IkeSpec old_b{.name = "b", .uniqueid = 2, .remote = "172.16.0.3", .children = {{.name = "b"}}};
  const auto down = testing::updown_event(old_b, false);
  EXPECT_TRUE(reconciler_->retired_by_change("ike-updown", down));
  std::erase_if(charon_.sas, [](const IkeSpec& sa) { return sa.uniqueid == 2; });
  reconciler_->charon_event("ike-updown", down);
  EXPECT_TRUE(reconciler_->tunnels_up().count("b"));
  EXPECT_FALSE(reconciler_->retired_by_change("ike-updown", down)) << "only once";

  // Dropping one unloads it (terminate, key, connection) and only it.
  reconciler_->set_desired({plan("a", "172.16.0.2", {"a"}), plan("b", "172.16.0.3", {"b"}, "v2")});
  ASSERT_TRUE(run_until([&] { return charon_.conns.size() == 2; }));
  EXPECT_EQ(charon_.conns, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(charon_.keys, (std::set<std::string>{"ike-a", "ike-b"}));
  EXPECT_FALSE(routes_.routes.count({"10.0.4.0/24", "ipsec0"})) << "its route went too";
}

// Only the PSK changed: charon's make-before-break reauthentication, which
// deletes the old IKE SA itself once the new one is up.
TEST_F(ReconcilerTest, ANewPskIsBroughtInByAMakeBeforeBreakReauthentication) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  charon_.sas = {{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 5}}}};
  pass();
  auto changed = plan("hub", "172.16.0.2", {"hub"});
  changed.secret.secret = Secret(std::string("a-new-psk"));
  changed.fingerprint = "hub-new-psk";
  reconciler_->set_desired({changed});
  ASSERT_TRUE(run_until([&] { return charon_.count("rekey") == 1; }));
  EXPECT_EQ(charon_.values("rekey", "ike-id"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(charon_.values("rekey", "reauth"), (std::vector<std::string>{"yes"}));
  EXPECT_EQ(charon_.count("terminate"), 0u);
  // charon's new IKE SA is up and it deleted the old one.
  charon_.sas = {{.name = "hub", .uniqueid = 4, .children = {{.name = "hub", .uniqueid = 6}}}};
  clock_.advance(500ms);
  ASSERT_TRUE(run_until([&] { return reconciler_->changes_in_progress().empty(); }));
  settle();
  EXPECT_EQ(charon_.count("terminate"), 0u);
  EXPECT_EQ(charon_.count("rekey"), 1u);
}

// Only the ESP proposal changed: a new CHILD SA in the running IKE SA, then
// the old CHILD SA deleted; the IKE SA is never touched, and the old CHILD
// SA's down event is no tunnel going down.
TEST_F(ReconcilerTest, ANewEspPolicyIsBroughtInByANewChildSaInTheRunningIkeSa) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  charon_.sas = {{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 5}}}};
  pass();
  ASSERT_TRUE(routes_.routes.count({"10.0.2.0/24", "ipsec0"}));
  const auto initiates = charon_.count("initiate");
  auto changed = plan("hub", "172.16.0.2", {"hub"});
  changed.conn.section("children").section("hub").set_list("esp_proposals", {"aes256-sha256-modp2048"});
  changed.fingerprint = "hub-new-esp";
  reconciler_->set_desired({changed});
  ASSERT_TRUE(run_until([&] { return charon_.count("initiate") == initiates + 1; }));
  EXPECT_EQ(charon_.values("initiate", "child").back(), "hub");
  EXPECT_EQ(charon_.values("initiate", "ike").back(), "hub");
  for (int i = 0; i < 4; ++i) {  // the new CHILD SA is not up yet
    clock_.advance(500ms);
    settle();
  }
  EXPECT_EQ(charon_.count("terminate"), 0u) << "the old CHILD SA carries until the new one is up";
  EXPECT_EQ(charon_.count("rekey"), 0u);

  // charon put the new CHILD SA #6 into IKE SA #3: the old one (#5) goes.
  charon_.sas = {{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 5}, {.name = "hub",
                                                                                              .uniqueid = 6}}}};
  clock_.advance(500ms);
  ASSERT_TRUE(run_until([&] { return charon_.count("terminate") == 1; }));
  EXPECT_EQ(charon_.values("terminate", "child-id"), (std::vector<std::string>{"5"}));
  EXPECT_EQ(charon_.values("terminate", "ike-id"), (std::vector<std::string>{""})) << "the IKE SA stays";
  EXPECT_TRUE(reconciler_->changes_in_progress().empty());

  const IkeSpec old_child{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 5}}};
  const auto down = testing::updown_event(old_child, false);
  EXPECT_TRUE(reconciler_->retired_by_change("child-updown", down));
  charon_.sas = {{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 6}}}};
  const auto passes = reconciler_->passes();
  reconciler_->charon_event("child-updown", down);
  EXPECT_FALSE(reconciler_->retired_by_change("child-updown", down)) << "only once";
  settle();
  EXPECT_TRUE(reconciler_->tunnels_up().count("hub"));
  EXPECT_TRUE(routes_.routes.count({"10.0.2.0/24", "ipsec0"}));
  EXPECT_EQ(reconciler_->passes(), passes) << "no re-dial pass for a retired CHILD SA";
  // The down event of a CHILD SA of the same IKE SA that was not retired is
  // one (the new CHILD SA going would take the tunnel down).
  const IkeSpec new_child{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 6}}};
  EXPECT_FALSE(reconciler_->retired_by_change("child-updown", testing::updown_event(new_child, false)));
}

// A new PSK and a new ESP proposal: the reauthentication brings the PSK (and
// re-creates the CHILD SAs from their old configs), then a new CHILD SA
// follows in the new IKE SA.
TEST_F(ReconcilerTest, ANewPskWithANewEspPolicyIsAReauthenticationThenANewChildSa) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  charon_.sas = {{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 5}}}};
  pass();
  auto changed = plan("hub", "172.16.0.2", {"hub"});
  changed.conn.section("children").section("hub").set_list("esp_proposals", {"aes256-sha256-modp2048"});
  changed.secret.secret = Secret(std::string("a-new-psk"));
  changed.fingerprint = "hub-new-psk-and-esp";
  reconciler_->set_desired({changed});
  ASSERT_TRUE(run_until([&] { return charon_.count("rekey") == 1; }));
  EXPECT_EQ(charon_.values("rekey", "reauth"), (std::vector<std::string>{"yes"}));
  const auto initiates = charon_.count("initiate");
  charon_.sas = {{.name = "hub", .uniqueid = 4, .children = {{.name = "hub", .uniqueid = 6}}}};
  clock_.advance(500ms);
  ASSERT_TRUE(run_until([&] { return charon_.count("initiate") == initiates + 1; }));
  EXPECT_EQ(reconciler_->changes_in_progress().at("hub").method, ChangeMethod::new_child_sas);
  charon_.sas = {{.name = "hub", .uniqueid = 4, .children = {{.name = "hub", .uniqueid = 6}, {.name = "hub",
                                                                                              .uniqueid = 7}}}};
  clock_.advance(500ms);
  ASSERT_TRUE(run_until([&] { return charon_.count("terminate") == 1; }));
  EXPECT_EQ(charon_.values("terminate", "child-id"), (std::vector<std::string>{"6"}));
  EXPECT_TRUE(reconciler_->changes_in_progress().empty());
}

// While the new IKE SA does not come up (Azure does not have the new policy
// yet), the old one keeps carrying and the new one is asked for again.
TEST_F(ReconcilerTest, TheOldIkeSaStaysUntilTheNewOneIsUp) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  charon_.sas = {{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 5}}}};
  pass();
  const auto initiates = charon_.count("initiate");
  reconciler_->set_desired({plan("hub", "172.16.0.2", {"hub"}, "v2")});
  ASSERT_TRUE(run_until([&] { return charon_.count("initiate") == initiates + 1; }));
  for (int i = 0; i < 10; ++i) {
    clock_.advance(500ms);
    settle();
  }
  EXPECT_EQ(charon_.count("terminate"), 0u) << "the old IKE SA carries until the new one is up";
  EXPECT_EQ(charon_.count("initiate"), initiates + 2) << "asked again after " << kRedial.count() << " s";
  EXPECT_EQ(reconciler_->changes_in_progress().size(), 1u);
  EXPECT_TRUE(reconciler_->tunnels_up().count("hub"));
}

// What a second IKE SA cannot bring in: ergw does not dial it (Azure's
// InitiatorOnly), so the old IKE SA is terminated and Azure dials.
TEST_F(ReconcilerTest, AChangeOfAConnectionErgwDoesNotDialRestartsIt) {
  auto azure_dials = plan("hub", "172.16.0.2", {"hub"});
  azure_dials.dial = false;
  start({azure_dials});
  charon_.sas = {{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 5}}}};
  pass();
  auto changed = plan("hub", "172.16.0.2", {"hub"}, "v2");
  changed.dial = false;
  reconciler_->set_desired({changed});
  ASSERT_TRUE(run_until([&] { return charon_.count("terminate") == 1; }));
  EXPECT_EQ(charon_.values("terminate", "ike"), (std::vector<std::string>{"hub"}));
  settle();
  EXPECT_EQ(charon_.count("initiate"), 0u);
  EXPECT_TRUE(reconciler_->changes_in_progress().empty());
}

// Both sides re-dialled at once after an outage: two established IKE SAs.
// Nothing is initiated, the status says UP with two IKE SAs and shows the one
// that received more.
TEST_F(ReconcilerTest, DuplicateIkeSaAfterBothSidesRedialIsUpAndLeftAlone) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  charon_.sas = {{.name = "hub", .uniqueid = 5, .initiator = true,
                  .children = {{.name = "hub", .uniqueid = 7, .packets_in = 2}}},
                 {.name = "hub", .uniqueid = 6, .initiator = false,
                  .children = {{.name = "hub", .uniqueid = 8, .packets_in = 90}}}};
  const auto initiates = charon_.count("initiate");
  pass();
  pass();
  EXPECT_EQ(charon_.count("initiate"), initiates);
  const auto s = snapshot();
  ASSERT_EQ(s.connections.size(), 1u);
  EXPECT_EQ(s.connections[0].tunnel.state, TunnelState::up);
  EXPECT_EQ(s.connections[0].tunnel.established_ike_sas(), 2u);
  EXPECT_EQ(s.connections[0].tunnel.shown_sa()->uniqueid, 6u);
  const auto json = status_json(s);
  EXPECT_EQ(json["connections"][0]["state"], "UP");
  EXPECT_EQ(json["connections"][0]["ike_sas"], 2);
  EXPECT_EQ(json["connections"][0]["duplicates"].size(), 1u);
}

TEST_F(ReconcilerTest, PolicyBasedConnectionDialsEveryPrefixPairWithoutAChildSa) {
  start({plan("hub", "172.16.0.2", {"hub-1", "hub-2", "hub-3"})});
  EXPECT_EQ(charon_.values("initiate", "child"), std::vector<std::string>{"hub-1"})
      << "the first CHILD brings the IKE SA";
  charon_.sas = {{.name = "hub", .uniqueid = 1,
                  .children = {{.name = "hub-1", .uniqueid = 1}, {.name = "hub-2", .state = "INSTALLING",
                                                                   .uniqueid = 2}}}};
  pass();
  EXPECT_EQ(charon_.values("initiate", "child"), (std::vector<std::string>{"hub-1", "hub-3"}))
      << "only the pair with nothing under way";
  EXPECT_EQ(snapshot().connections[0].tunnel.state, TunnelState::partial);
}

TEST_F(ReconcilerTest, AnIkeSaBeingSetUpIsLeftToCharon) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  charon_.sas = {{.name = "hub", .uniqueid = 1, .state = "CONNECTING"}};
  const auto initiates = charon_.count("initiate");
  pass();
  EXPECT_EQ(charon_.count("initiate"), initiates);
}

TEST_F(ReconcilerTest, AzureDialledConnectionsAreNotInitiated) {
  auto responder = plan("hub", "172.16.0.2", {"hub"});
  responder.dial = false;
  start({responder});
  EXPECT_EQ(charon_.count("initiate"), 0u);
  EXPECT_EQ(charon_.conns, std::set<std::string>{"hub"});
}

TEST_F(ReconcilerTest, ATunnelGoingDownBringsAPassThatRedials) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  const IkeSpec sa{.name = "hub", .uniqueid = 4, .children = {{.name = "hub"}}};
  charon_.sas = {sa};
  pass();
  const auto initiates = charon_.count("initiate");
  const auto passes = reconciler_->passes();
  charon_.sas.clear();
  fake_.emit("ike-updown", testing::updown_event(sa, false));
  ASSERT_TRUE(run_until([&] { return reconciler_->health().find("hub")->last_change == "IKE down"; }));
  EXPECT_EQ(reconciler_->passes(), passes) << "charon's own DPD and close actions get their chance first";
  clock_.advance(options_.redial_delay - 1ms);
  EXPECT_EQ(reconciler_->passes(), passes);
  clock_.advance(1ms);
  ASSERT_TRUE(run_until([&] { return reconciler_->passes() > passes; }));
  settle();
  EXPECT_EQ(charon_.count("initiate"), initiates + 1);
  EXPECT_EQ(reconciler_->health().find("hub")->last_change, "IKE down");
}

// The safety net: a connection charon lost without telling (an operator ran
// `swanctl --unload-conn`) is loaded again by the periodic pass, not before.
TEST_F(ReconcilerTest, ThePeriodicPassRestoresWhatCharonLost) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  reconciler_->start_periodic(30s);
  const auto passes = reconciler_->passes();
  charon_.forget_everything();
  clock_.advance(29s);
  EXPECT_EQ(reconciler_->passes(), passes);
  clock_.advance(1s);
  ASSERT_TRUE(run_until([&] { return reconciler_->passes() > passes; }));
  settle();
  EXPECT_EQ(charon_.conns, std::set<std::string>{"hub"});
  EXPECT_EQ(charon_.keys, std::set<std::string>{"ike-hub"});
  clock_.advance(30s);
  ASSERT_TRUE(run_until([&] { return reconciler_->passes() > passes + 1; })) << "and again 30 s later";
}

TEST_F(ReconcilerTest, ARefusedPeersIkeSaGoingDownBringsNoPass) {
  start({plan("hub", "172.16.0.2", {"hub"})});
  const auto passes = reconciler_->passes();
  fake_.emit("ike-updown",
             testing::updown_event({.name = "(unnamed)", .uniqueid = 9, .state = "CONNECTING"}, false));
  // The event arrives and is handled within this second of real time.
  EXPECT_FALSE(run_until([&] { return reconciler_->passes() > passes; }, 1s));
  clock_.advance(options_.redial_delay * 3);
  EXPECT_FALSE(run_until([&] { return reconciler_->passes() > passes; }, 1s));
}

// charon's refusal of Azure's IKE_SA_INIT, as the events arrive over vici.
TEST_F(ReconcilerTest, RefusalOfAzuresFirstMessageReachesTheConnectionsStatus) {
  auto responder = plan("hub", "172.16.0.2", {"hub"});
  responder.dial = false;
  start({responder});
  fake_.emit("log", testing::log_event("(unnamed)", 9, "172.16.0.2 is initiating an IKE_SA"));
  fake_.emit("log", testing::log_event("(unnamed)", 9,
                                       "received proposals: IKE:AES_CBC_256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024"));
  fake_.emit("log", testing::log_event("(unnamed)", 9, "received proposals unacceptable"));
  ASSERT_TRUE(run_until([&] { return last_error("hub") != nullptr; }));
  const auto json = status_json(snapshot());
  const auto& c = json["connections"][0];
  EXPECT_EQ(c["state"], "DOWN");
  EXPECT_EQ(c["last_error"]["code"], "no_acceptable_proposal");
  EXPECT_EQ(c["last_error"]["reason"], "no proposal chosen");
  EXPECT_NE(c["last_error"]["observed"].get<std::string>().find("MODP_1024"), std::string::npos);
  EXPECT_EQ(c["last_error"]["at"], "2026-11-30T12:00:00Z");
}

// Active-active in the kernel data plane: the VNet is routed over both
// instances' xfrm interfaces (ECMP); a tunnel that goes down takes its
// nexthop away at once, and it comes back when charon lists the tunnel up.
// The two instances of an active-active gateway, each routing 10.5.0.0/16,
// in the kernel data plane (one xfrm interface each: ergw1, ergw2).
std::pair<ConnectionPlan, ConnectionPlan> active_active_plans(Reconciler& reconciler) {
  DataPlaneChoice kernel;
  kernel.kind = DataPlaneKind::kernel;
  reconciler.set_data_plane(kernel);
  auto i0 = plan("aa-i0", "172.16.0.2", {"aa-i0"});
  auto i1 = plan("aa-i1", "172.16.0.3", {"aa-i1"});
  i1.if_id = 2;
  i0.routes = i1.routes = {*IpPrefix::parse("10.5.0.0/16")};
  return {i0, i1};
}

TEST_F(ReconcilerTest, ActiveActiveRoutesFollowTheTunnelsState) {
  auto plans = active_active_plans(*reconciler_);
  auto& i0 = plans.first;
  auto& i1 = plans.second;
  const IkeSpec sa0{.name = "aa-i0", .uniqueid = 1, .children = {{.name = "aa-i0"}}};
  const IkeSpec sa1{.name = "aa-i1", .uniqueid = 2, .remote = "172.16.0.3", .children = {{.name = "aa-i1"}}};
  charon_.sas = {sa0, sa1};
  start({i0, i1});
  using Routes = std::set<std::pair<std::string, std::string>>;
  const Routes both{{"10.5.0.0/16", "ergw1"}, {"10.5.0.0/16", "ergw2"}};
  ASSERT_TRUE(run_until([&] { return routes_.routes == both; }));
  EXPECT_EQ(reconciler_->tunnels_up(), (std::set<std::string>{"aa-i0", "aa-i1"}));

  // Instance 0 goes: at once, before any pass.
  charon_.sas = {sa1};
  const auto passes = reconciler_->passes();
  fake_.emit("ike-updown", testing::updown_event(sa0, false));
  ASSERT_TRUE(run_until([&] { return routes_.routes == Routes{{"10.5.0.0/16", "ergw2"}}; }));
  EXPECT_EQ(reconciler_->passes(), passes);

  // Both gone: the route stays in both (dropped there, not sent elsewhere).
  charon_.sas = {};
  fake_.emit("ike-updown", testing::updown_event(sa1, false));
  ASSERT_TRUE(run_until([&] { return routes_.routes == both; }));

  // Instance 1 is back: charon's list, read after the CHILD's up event.
  charon_.sas = {sa1};
  fake_.emit("child-updown", testing::updown_event(sa1, true));
  clock_.advance(50ms);
  ASSERT_TRUE(run_until([&] { return routes_.routes == Routes{{"10.5.0.0/16", "ergw2"}}; }));

  // Preferring instance 0 (preferredInstance 0): with both up only ergw1.
  i1.route_preference = 1;
  charon_.sas = {sa0, sa1};
  reconciler_->set_desired({i0, i1});
  ASSERT_TRUE(run_until([&] { return routes_.routes == Routes{{"10.5.0.0/16", "ergw1"}}; }));
  reconciler_->remove_routes();
  EXPECT_TRUE(routes_.routes.empty());
}

// Both sides dialled at once: instance 0 holds two IKE SAs. One of them
// going (DPD, or the peer deleting its duplicate) moves nothing: the other
// still carries the connection. The last one going moves the route at once.
TEST_F(ReconcilerTest, AnIkeSaGoingWhileAnotherCarriesTheConnectionMovesNoRoute) {
  auto plans = active_active_plans(*reconciler_);
  auto& i0 = plans.first;
  auto& i1 = plans.second;
  i1.route_preference = 1;  // preferredInstance 0
  const IkeSpec first{.name = "aa-i0", .uniqueid = 1, .children = {{.name = "aa-i0", .uniqueid = 1}}};
  const IkeSpec second{.name = "aa-i0", .uniqueid = 3, .children = {{.name = "aa-i0", .uniqueid = 3}}};
  const IkeSpec sa1{.name = "aa-i1", .uniqueid = 2, .remote = "172.16.0.3", .children = {{.name = "aa-i1", .uniqueid = 2}}};
  charon_.sas = {first, second, sa1};
  start({i0, i1});
  using Routes = std::set<std::pair<std::string, std::string>>;
  const Routes preferred{{"10.5.0.0/16", "ergw1"}};
  ASSERT_TRUE(run_until([&] { return routes_.routes == preferred; }));

  // The duplicate goes, its CHILD first: instance 0 still carries.
  charon_.sas = {second, sa1};
  fake_.emit("child-updown", testing::updown_event(first, false));
  fake_.emit("ike-updown", testing::updown_event(first, false));
  settle();
  EXPECT_EQ(routes_.routes, preferred) << "the route moved although IKE SA #3 carries instance 0";
  EXPECT_TRUE(reconciler_->tunnels_up().count("aa-i0"));
  clock_.advance(500ms);  // charon's list agrees
  settle();
  EXPECT_EQ(routes_.routes, preferred);

  // The last one goes: the route moves to instance 1 at once, before any pass.
  charon_.sas = {sa1};
  const auto passes = reconciler_->passes();
  fake_.emit("ike-updown", testing::updown_event(second, false));
  ASSERT_TRUE(run_until([&] { return routes_.routes == Routes{{"10.5.0.0/16", "ergw2"}}; }));
  EXPECT_EQ(reconciler_->passes(), passes);
}

TEST_F(ReconcilerTest, RoutesWaitForTheirDeviceAndFollowTheConfiguration) {
  routes_.devices.clear();  // charon has not created ipsec0 yet
  start({plan("hub", "172.16.0.2", {"hub"})});
  EXPECT_TRUE(routes_.routes.empty());
  EXPECT_TRUE(reconciler_->installed_routes().empty());
  routes_.devices.insert("ipsec0");
  pass();
  EXPECT_TRUE(reconciler_->installed_routes().count({"10.0.2.0/24", "ipsec0"}));
  reconciler_->remove_routes();
  EXPECT_TRUE(routes_.routes.empty());
}

}  // namespace
}  // namespace ergw::gateway
