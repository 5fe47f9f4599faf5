// The control-socket client against a scripted fake BIRD on a UNIX socket:
// replies split across reads, errors, a silent server (timeout), a server that
// hangs up. The lab test exercises it against the real BIRD.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "routing/bird_queries.h"
#include "routing/control_socket.h"
#include "tests/routing/capture.h"

namespace ergw::routing {
namespace {

RouteQuery route_query(std::string table, std::string protocol, bool all) {
  RouteQuery query;
  query.table = std::move(table);
  query.protocol = std::move(protocol);
  query.all = all;
  return query;
}

using testing::read_capture;

// Accepts one client, sends `greeting`, then for each request line sends the
// next scripted answer in chunks of `chunk` bytes. An empty answer means "say
// nothing and keep the connection open until the client leaves".
class FakeBird {
 public:
  FakeBird(std::string greeting, std::vector<std::string> answers, size_t chunk = 7)
      : path_((std::filesystem::temp_directory_path() / ("ergw-fake-bird-" + std::to_string(::getpid()) + "-" +
                                                         std::to_string(counter_++) + ".ctl"))
                  .string()) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path_.c_str());
    ::unlink(path_.c_str());
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(listen_fd_, 1), 0);
    thread_ = std::thread([this, greeting = std::move(greeting), answers = std::move(answers), chunk] {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      send_chunked(fd, greeting, chunk);
      std::string pending;
      size_t next = 0;
      char buffer[256];
      for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof(buffer));
        if (n <= 0) break;
        pending.append(buffer, static_cast<size_t>(n));
        size_t newline;
        while ((newline = pending.find('\n')) != std::string::npos) {
          requests_.push_back(pending.substr(0, newline));
          pending.erase(0, newline + 1);
          if (next < answers.size()) send_chunked(fd, answers[next++], chunk);
        }
      }
      ::close(fd);
    });
  }
  ~FakeBird() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  static void send_chunked(int fd, const std::string& bytes, size_t chunk) {
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      if (::send(fd, bytes.data() + i, std::min(chunk, bytes.size() - i), MSG_NOSIGNAL) < 0) return;
      std::this_thread::yield();
    }
  }
  static inline int counter_ = 0;
  std::string path_;
  int listen_fd_ = -1;
  std::thread thread_;
  std::vector<std::string> requests_;
};

TEST(ControlSocket, ReadsGreetingAndChunkedReplies) {
  FakeBird bird(read_capture("hello.txt"), {read_capture("show_protocols_all.txt"), read_capture("show_status.txt")});
  {
    auto socket = ControlSocket::connect(bird.path(), std::chrono::seconds(5));
    ASSERT_TRUE(socket.ok()) << socket.error();
    EXPECT_EQ(socket->greeting().lines.back().text, "BIRD 2.0.12 ready.");
    auto protocols = socket->command("show protocols all");
    ASSERT_TRUE(protocols.ok()) << protocols.error();
    EXPECT_EQ(protocols->final_code(), 0);
    EXPECT_EQ(protocols->lines.size(), 117u);
    auto status = socket->command("show status");
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(status->final_code(), 13);
  }
  EXPECT_EQ(bird.requests(), (std::vector<std::string>{"show protocols all", "show status"}));
}

TEST(ControlSocket, ConfigureCheckErrorIsReturnedAndConfigureNotSent) {
  FakeBird bird(read_capture("hello.txt"), {read_capture("configure_check_syntax_error.txt")});
  {
    auto socket = ControlSocket::connect(bird.path(), std::chrono::seconds(5));
    ASSERT_TRUE(socket.ok());
    Status status = configure(*socket, "/tmp/bad.conf");
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().find("syntax error, unexpected ';'"), std::string::npos) << status.error();
  }
  EXPECT_EQ(bird.requests(), (std::vector<std::string>{"configure check \"/tmp/bad.conf\""}));
}

TEST(ControlSocket, ConfigureChecksThenConfigures) {
  FakeBird bird(read_capture("hello.txt"),
                {read_capture("configure_check_ok.txt"), read_capture("configure_in_progress.txt")});
  {
    auto socket = ControlSocket::connect(bird.path(), std::chrono::seconds(5));
    ASSERT_TRUE(socket.ok());
    EXPECT_TRUE(configure(*socket, "/etc/ergw/bird.conf").ok());
  }
  EXPECT_EQ(bird.requests(), (std::vector<std::string>{"configure check \"/etc/ergw/bird.conf\"",
                                                       "configure \"/etc/ergw/bird.conf\""}));
}

TEST(ControlSocket, SilentServerTimesOut) {
  FakeBird bird(read_capture("hello.txt"), {""});
  auto socket = ControlSocket::connect(bird.path(), std::chrono::milliseconds(300));
  ASSERT_TRUE(socket.ok());
  auto reply = socket->command("show status");
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.error().find("timed out"), std::string::npos);
  // The connection is not trusted after a timeout.
  EXPECT_FALSE(socket->command("show status").ok());
}

TEST(ControlSocket, HangUpMidReplyIsAnError) {
  FakeBird bird(read_capture("hello.txt"), {"1002-p1 BGP --- up\n"});
  auto socket = ControlSocket::connect(bird.path(), std::chrono::seconds(5));
  ASSERT_TRUE(socket.ok());
  // The fake keeps the connection open after its partial answer; a second
  // request never gets an answer, so give the client a short deadline.
  socket->set_timeout(std::chrono::milliseconds(300));
  EXPECT_FALSE(socket->command("show protocols").ok());
}

TEST(ControlSocket, RefusesCommandsBirdWouldMisread) {
  FakeBird bird(read_capture("hello.txt"), {});
  auto socket = ControlSocket::connect(bird.path(), std::chrono::seconds(5));
  ASSERT_TRUE(socket.ok());
  EXPECT_FALSE(socket->command("show status\nshutdown").ok());
  EXPECT_FALSE(socket->command(std::string(5000, 'x')).ok());
  EXPECT_FALSE(configure(*socket, "/tmp/a\"b.conf").ok());
}

TEST(BirdQueries, SendTheDocumentedCommandsAndParse) {
  FakeBird bird(read_capture("hello.txt"), {read_capture("show_protocols_all_established.txt"),
                                            read_capture("show_route_all_alternative.txt"),
                                            read_capture("show_status.txt")});
  {
    auto socket = ControlSocket::connect(bird.path(), std::chrono::seconds(5));
    ASSERT_TRUE(socket.ok());
    auto protocols = query_protocols(*socket, "ergw_*");
    ASSERT_TRUE(protocols.ok()) << protocols.error();
    EXPECT_EQ(protocols->size(), 1u);
    auto routes = query_routes(*socket, route_query("master4", "ergw_azure0", true));
    ASSERT_TRUE(routes.ok()) << routes.error();
    EXPECT_EQ(routes->size(), 2u);
    auto status = query_status(*socket);
    ASSERT_TRUE(status.ok());
    // Names that are not BIRD symbols never reach BIRD.
    EXPECT_FALSE(query_routes(*socket, route_query("master4; shutdown", "", true)).ok());
    EXPECT_FALSE(query_protocols(*socket, "a\"b").ok());
  }
  EXPECT_EQ(bird.requests(), (std::vector<std::string>{"show protocols all \"ergw_*\"",
                                                       "show route all table master4 protocol ergw_azure0",
                                                       "show status"}));
}

TEST(ControlSocket, NoServer) {
  auto socket = ControlSocket::connect("/nonexistent-ergw/bird.ctl", std::chrono::milliseconds(100));
  ASSERT_FALSE(socket.ok());
  EXPECT_NE(socket.error().find("/nonexistent-ergw/bird.ctl"), std::string::npos);
}

}  // namespace
}  // namespace ergw::routing
