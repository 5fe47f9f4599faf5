// ServiceManager against a NOTIFY_SOCKET of the test's own: a unix datagram
// socket standing in for systemd, which reads what sd_notify sends.
#include "gateway/ergwd/service_manager.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "tests/common/fake_clock.h"

namespace ergw::gateway {
namespace {

using namespace std::chrono_literals;

// The socket systemd would listen on, and the environment that points to it.
class FakeSystemd {
 public:
  FakeSystemd() {
    path_ = std::filesystem::temp_directory_path() / ("ergw-notify-" + std::to_string(getpid()));
    std::filesystem::remove(path_);
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path_.c_str());
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~FakeSystemd() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    close(fd_);
    std::filesystem::remove(path_);
  }
  bool bound() const { return bound_; }
  // Every datagram received so far.
  std::vector<std::string> received() {
    std::vector<std::string> messages;
    char buffer[4096];
    for (ssize_t n; (n = recv(fd_, buffer, sizeof(buffer), 0)) > 0;) messages.emplace_back(buffer, n);
    return messages;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool bound_ = false;
};

size_t count(const std::vector<std::string>& messages, const std::string& text) {
  size_t n = 0;
  for (const auto& m : messages) n += m == text;
  return n;
}

TEST(ServiceManager, ReadyIsSentOnceWithItsStatus) {
  FakeSystemd systemd;
  ASSERT_TRUE(systemd.bound());
  boost::asio::io_context io;
  testing::FakeClock clock(io);
  ServiceManager manager(clock);
  manager.status("waiting for charon");
  manager.ready("running: 1 connection(s) applied");
  manager.ready("running again");
  manager.stopping();
  EXPECT_EQ(systemd.received(), (std::vector<std::string>{"STATUS=waiting for charon",
                                                          "READY=1\nSTATUS=running: 1 connection(s) applied",
                                                          "STOPPING=1"}));
  EXPECT_TRUE(manager.is_ready());
}

TEST(ServiceManager, WatchdogPingsAtHalfTheTimeoutFromTheLoop) {
  FakeSystemd systemd;
  ASSERT_TRUE(systemd.bound());
  setenv("WATCHDOG_USEC", "2000000", 1);  // WatchdogSec=2
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  boost::asio::io_context io;
  testing::FakeClock clock(io);
  ServiceManager manager(clock);
  auto interval = manager.start_watchdog();
  ASSERT_TRUE(interval.has_value());
  EXPECT_EQ(*interval, 1000ms);
  EXPECT_EQ(count(systemd.received(), "WATCHDOG=1"), 1u);  // at once
  clock.advance(999ms);
  EXPECT_EQ(count(systemd.received(), "WATCHDOG=1"), 0u);
  clock.advance(1ms);
  EXPECT_EQ(count(systemd.received(), "WATCHDOG=1"), 1u);
  clock.advance(3000ms);
  EXPECT_EQ(count(systemd.received(), "WATCHDOG=1"), 3u);
}

TEST(ServiceManager, NoWatchdogForAnotherProcessOrWithoutSystemd) {
  FakeSystemd systemd;
  boost::asio::io_context io;
  testing::FakeClock clock(io);
  ServiceManager manager(clock);
  EXPECT_FALSE(manager.start_watchdog().has_value());  // no WATCHDOG_USEC
  setenv("WATCHDOG_USEC", "2000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);  // the watchdog is another's
  EXPECT_FALSE(manager.start_watchdog().has_value());
  unsetenv("NOTIFY_SOCKET");
  manager.ready("outside systemd nothing is sent, and nothing fails");
  EXPECT_TRUE(systemd.received().empty());
}

TEST(ServiceManager, PingIntervalIsHalfTheTimeoutAndNeverZero) {
  EXPECT_EQ(watchdog_ping_interval(std::chrono::seconds(30)), 15000ms);
  EXPECT_EQ(watchdog_ping_interval(std::chrono::microseconds(1)), 1ms);
}

}  // namespace
}  // namespace ergw::gateway
