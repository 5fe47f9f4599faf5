// CharonBackend (gateway/ergwd/charon_backend.h) against the fake charon
// (tests/vici/fake_charon): its `stats` answer lists the plugins a charon
// "loaded", and the restart command is run by a fake launcher that restarts
// the fake charon with the plugins the settings now name, as systemd would.
#include "gateway/ergwd/charon_backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>

#include <boost/asio/io_context.hpp>

#include "tests/host/fake_launcher.h"
#include "tests/vici/fake_charon.h"
#include "tests/vici/run_until.h"

namespace ergw::gateway {
namespace {

using namespace std::chrono_literals;
using vici::Message;
using vici::Packet;
using vici::testing::FakeCharon;

const std::vector<std::string> kLibipsecPlugins = {"aes", "kernel-libipsec", "kernel-netlink", "socket-default", "vici"};
const std::vector<std::string> kFastpathPlugins = {"aes", "ergw-ipsec", "kernel-netlink", "socket-default", "vici"};

class CharonBackendTest : public ::testing::Test {
 protected:
  CharonBackendTest()
      : path_("/tmp/ergw-charon-backend-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sock"),
        fake_(io_, path_),
        launcher_(io_) {
    fake_.on_command("stats", [this](FakeCharon::Session&, const Message&) {
      ++stats_asked_;
      Message reply;
      reply.set_list("plugins", std::vector<std::string>(plugins_.begin(), plugins_.end()));
      return std::vector<Packet>{Packet::response(reply)};
    });
    fake_.listen();
    vici::ClientOptions options;
    options.socket_path = path_;
    options.reconnect_initial_delay = 10ms;
    options.reconnect_max_delay = 50ms;
    client_ = std::make_unique<vici::Client>(io_.get_executor(), options);
    // The restart command: charon goes away and comes back with the plugins
    // its settings name now.
    launcher_.on_launch = [this](host::testing::FakeProcess& p) {
      EXPECT_EQ(p.spec.argv, (std::vector<std::string>{"/bin/sh", "-c", "systemctl restart strongswan.service"}));
      fake_.shut_down();
      plugins_ = plugins_after_restart_;
      fake_.listen();
      p.end(0);
    };
  }
  ~CharonBackendTest() override {
    backend_.reset();
    client_.reset();
  }

  void start(std::string command = "systemctl restart strongswan.service") {
    backend_ = std::make_unique<CharonBackend>(*client_, launcher_, std::move(command));
    client_->on_connected([this] {
      ++connections_;
      backend_->charon_connected();
    });
    client_->start();
    ASSERT_TRUE(run_until([&] { return connections_ >= 1; }));
  }
  template <typename Pred>
  bool run_until(Pred done) {
    return vici::testing::run_until(io_, done, 3000ms);
  }
  // Lets every answer arrive.
  void settle() { vici::testing::run_until(io_, [] { return false; }, 200ms); }

  std::string path_;
  boost::asio::io_context io_;
  FakeCharon fake_;
  host::testing::FakeLauncher launcher_;
  std::unique_ptr<vici::Client> client_;
  std::unique_ptr<CharonBackend> backend_;
  std::vector<std::string> plugins_ = kLibipsecPlugins;
  std::vector<std::string> plugins_after_restart_ = kLibipsecPlugins;
  int stats_asked_ = 0;
  int connections_ = 0;
};

TEST(CharonBackendProblem, EachDataPlaneNeedsItsPluginAndNeverKernelLibipsecBesideErgwIpsec) {
  EXPECT_EQ(charon_backend_problem(DataPlaneKind::fastpath, {"aes", "ergw-ipsec", "kernel-netlink"}), "");
  EXPECT_NE(charon_backend_problem(DataPlaneKind::fastpath, {"kernel-netlink"}).find("has not loaded the ergw-ipsec"),
            std::string::npos);
  EXPECT_NE(charon_backend_problem(DataPlaneKind::fastpath, {"ergw-ipsec", "kernel-libipsec"}).find("kernel-libipsec"),
            std::string::npos);
  EXPECT_EQ(charon_backend_problem(DataPlaneKind::libipsec, {"kernel-libipsec", "kernel-netlink"}), "");
  EXPECT_NE(charon_backend_problem(DataPlaneKind::libipsec, {"ergw-ipsec"}), "");
  EXPECT_EQ(charon_backend_problem(DataPlaneKind::kernel, {"kernel-netlink"}), "");
  EXPECT_NE(charon_backend_problem(DataPlaneKind::kernel, {"kernel-libipsec", "kernel-netlink"}), "");
}

// ergwd started with the charon it needs: nothing is restarted.
TEST_F(CharonBackendTest, ACharonThatFitsIsLeftAlone) {
  start();
  backend_->configure(DataPlaneKind::libipsec, "libipsec settings");
  settle();
  EXPECT_GE(stats_asked_, 1);
  EXPECT_EQ(backend_->problem(), "");
  EXPECT_EQ(launcher_.attempts(), 0);
}

// A reload switched libipsec -> fastpath: the fragment that loads ergw-ipsec
// changed, and charon reads it only when it starts: it is restarted once, and
// the new charon has the plugin.
TEST_F(CharonBackendTest, ASwitchedDataPlaneRestartsCharonOnceAndTheNewOneFits) {
  start();
  backend_->configure(DataPlaneKind::libipsec, "libipsec settings");
  settle();
  plugins_after_restart_ = kFastpathPlugins;
  backend_->configure(DataPlaneKind::fastpath, "ergw-ipsec settings");
  ASSERT_TRUE(run_until([&] { return connections_ >= 2; })) << "charon was not restarted";
  settle();
  EXPECT_EQ(launcher_.attempts(), 1);
  EXPECT_EQ(backend_->restarts(), 1u);
  EXPECT_EQ(backend_->problem(), "") << "the new charon loaded ergw-ipsec";
  // The same settings again (an unrelated reload): nothing happens.
  backend_->configure(DataPlaneKind::fastpath, "ergw-ipsec settings");
  settle();
  EXPECT_EQ(launcher_.attempts(), 1);
}

// Only the socket in the fragment changed: the plugins fit either way, yet
// charon must read the fragment again.
TEST_F(CharonBackendTest, ChangedStartSettingsRestartCharonEvenWhenItsPluginsFit) {
  plugins_ = plugins_after_restart_ = kFastpathPlugins;
  start();
  backend_->configure(DataPlaneKind::fastpath, "socket A");
  settle();
  EXPECT_EQ(launcher_.attempts(), 0);
  backend_->configure(DataPlaneKind::fastpath, "socket B");
  ASSERT_TRUE(run_until([&] { return connections_ >= 2; }));
  EXPECT_EQ(launcher_.attempts(), 1);
}

// A charon that still lacks the plugin after its restart (not installed) is
// reported, and not restarted in a loop.
TEST_F(CharonBackendTest, ACharonThatStillDoesNotFitIsReportedNotRestartedAgain) {
  plugins_ = plugins_after_restart_ = {"aes", "kernel-netlink", "socket-default", "vici"};
  start();
  backend_->configure(DataPlaneKind::fastpath, "ergw-ipsec settings");
  ASSERT_TRUE(run_until([&] { return connections_ >= 2; }));
  settle();
  EXPECT_EQ(launcher_.attempts(), 1);
  EXPECT_NE(backend_->problem().find("has not loaded the ergw-ipsec plugin"), std::string::npos) << backend_->problem();
  fake_.shut_down();
  fake_.listen();
  ASSERT_TRUE(run_until([&] { return connections_ >= 3; }));
  settle();
  EXPECT_EQ(launcher_.attempts(), 1) << "restarted in a loop";
}

// Without a restart command: said, never run.
TEST_F(CharonBackendTest, WithoutACommandTheProblemIsOnlyReported) {
  start("");
  backend_->configure(DataPlaneKind::fastpath, "ergw-ipsec settings");
  settle();
  EXPECT_EQ(launcher_.attempts(), 0);
  EXPECT_NE(backend_->problem(), "");
}

}  // namespace
}  // namespace ergw::gateway
