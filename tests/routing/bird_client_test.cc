// The asynchronous BIRD client against FakeBird (real BIRD 2.0.12 replies) on
// a fake clock: replies, typed queries, configure, and every way BIRD can
// fail to answer (silent, stopped, gone), with no real waiting. The lab test
// (bgp_lab_test.cc) runs it against real BIRDs.
#include "routing/bird_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "routing/bird_commands.h"
#include "tests/common/fake_clock.h"
#include "tests/routing/capture.h"
#include "tests/routing/fake_bird.h"

namespace ergw::routing {
namespace {

using namespace std::chrono_literals;
using testing::FakeBird;
using testing::read_capture;

std::string unique_path(const std::string& what) {
  static int counter = 0;
  return (std::filesystem::temp_directory_path() /
          ("ergw-bird-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
      .string();
}

class BirdClientTest : public ::testing::Test {
 protected:
  BirdClientTest() : clock_(io_), bird_(io_, unique_path("ctl")) {
    bird_.on("show protocols all", read_capture("show_protocols_all.txt"));
    bird_.on("show status", read_capture("show_status.txt"));
    bird_.listen();
    options_.socket_path = bird_.path();
    options_.connect_timeout = 2s;
    options_.command_timeout = 5s;
    client_ = std::make_unique<BirdClient>(io_.get_executor(), clock_, options_);
  }

  // Sends `line` and runs until its reply (only I/O moves; time stands).
  std::optional<Result<Reply>> send(const std::string& line) {
    std::optional<Result<Reply>> out;
    client_->command(line, [&out](Result<Reply> r) { out.emplace(std::move(r)); });
    clock_.settle();
    return out;
  }

  boost::asio::io_context io_;
  ergw::testing::FakeClock clock_;
  FakeBird bird_;
  BirdClientOptions options_;
  std::unique_ptr<BirdClient> client_;
};

TEST_F(BirdClientTest, GreetsThenAnswersInOrderOnOneConnection) {
  std::vector<int> codes;
  for (const char* line : {"show protocols all", "show status", "show nonsense"}) {
    client_->command(line, [&codes](Result<Reply> r) {
      ASSERT_TRUE(r.ok()) << r.error();
      codes.push_back(r->final_code());
    });
  }
  EXPECT_TRUE(codes.empty()) << "a callback ran inside command()";
  clock_.settle();
  // BIRD's own error reply (9001) is an answer, not a failure.
  EXPECT_EQ(codes, (std::vector<int>{0, 13, 9001}));
  EXPECT_EQ(client_->greeting(), "BIRD 2.0.12 ready.");
  EXPECT_TRUE(client_->connected());
  EXPECT_EQ(bird_.accepted(), 1);
  EXPECT_EQ(bird_.requests(), (std::vector<std::string>{"show protocols all", "show status", "show nonsense"}));
}

TEST_F(BirdClientTest, SilentBirdTimesOutAndTheNextCommandReconnects) {
  bird_.on("show route", std::string());  // never answered
  std::optional<Result<Reply>> hung;
  std::optional<Result<Reply>> queued;
  client_->command("show route", [&](Result<Reply> r) { hung.emplace(std::move(r)); });
  client_->command("show status", [&](Result<Reply> r) { queued.emplace(std::move(r)); });
  clock_.advance(4999ms);
  EXPECT_FALSE(hung);
  clock_.advance(1ms);
  ASSERT_TRUE(hung && queued);
  ASSERT_FALSE(hung->ok());
  EXPECT_NE(hung->error().find("did not answer 'show route' within 5000 ms"), std::string::npos) << hung->error();
  // The queued command fails with it: the connection cannot be trusted.
  ASSERT_FALSE(queued->ok());
  EXPECT_FALSE(client_->connected());

  auto next = send("show status");
  ASSERT_TRUE(next && next->ok());
  EXPECT_EQ(bird_.accepted(), 2);
}

TEST_F(BirdClientTest, StoppedBirdNeverGreetsAndCarriesOnWhenResumed) {
  bird_.pause();
  std::optional<Result<Reply>> reply;
  client_->command("show status", [&](Result<Reply> r) { reply.emplace(std::move(r)); });
  clock_.advance(1999ms);
  EXPECT_FALSE(reply);
  clock_.advance(1ms);
  ASSERT_TRUE(reply);
  ASSERT_FALSE(reply->ok());
  EXPECT_NE(reply->error().find("did not greet"), std::string::npos) << reply->error();
  EXPECT_NE(reply->error().find(bird_.path()), std::string::npos);

  bird_.resume();
  auto later = send("show status");
  ASSERT_TRUE(later && later->ok()) << (later ? later->error() : "no reply");
}

TEST_F(BirdClientTest, CommandsSentBeforeBirdStoppedRunWhenItIsBack) {
  ASSERT_TRUE(send("show status")->ok());
  bird_.pause();
  std::optional<Result<Reply>> reply;
  client_->command("disable ergw_azure0", [&](Result<Reply> r) { reply.emplace(std::move(r)); });
  clock_.advance(5s);
  ASSERT_TRUE(reply && !reply->ok());
  EXPECT_EQ(bird_.count("disable"), 0);
  bird_.resume();
  clock_.settle();
  // BIRD read the request from the closed connection's buffer, as the real
  // one does: callers re-send the state they want instead of assuming "not done".
  EXPECT_EQ(bird_.count("disable ergw_azure0"), 1);
}

TEST_F(BirdClientTest, BirdGoingAwayFailsEveryCommandAndComingBackWorks) {
  ASSERT_TRUE(send("show status")->ok());
  bird_.on("show route", std::string());
  std::vector<std::string> errors;
  for (int i = 0; i < 3; ++i) {
    client_->command("show route", [&](Result<Reply> r) { errors.push_back(r.ok() ? "ok" : r.error()); });
  }
  clock_.settle();
  bird_.go_away();
  clock_.settle();
  ASSERT_EQ(errors.size(), 3u);
  for (const auto& e : errors) EXPECT_EQ(e, "BIRD closed its control socket");

  auto refused = send("show status");
  ASSERT_TRUE(refused && !refused->ok());
  EXPECT_NE(refused->error().find("cannot connect to BIRD's control socket " + bird_.path()), std::string::npos)
      << refused->error();
  bird_.listen();
  EXPECT_TRUE(send("show status")->ok());
}

TEST_F(BirdClientTest, RefusesLinesBirdWouldMisreadWithoutSendingThem) {
  for (const std::string& line : {std::string("show status\nshutdown"), std::string(5000, 'x'), std::string()}) {
    bool called = false;
    client_->command(line, [&](Result<Reply> r) {
      called = true;
      EXPECT_FALSE(r.ok());
    });
    EXPECT_FALSE(called);
    clock_.settle();
    EXPECT_TRUE(called);
  }
  EXPECT_TRUE(bird_.requests().empty());
}

TEST_F(BirdClientTest, DestroyedClientCallsNothing) {
  bool called = false;
  client_->command("show status", [&](Result<Reply>) { called = true; });
  client_.reset();
  clock_.advance(10s);
  EXPECT_FALSE(called);
}

TEST_F(BirdClientTest, NoBirdAtAllNamesTheSocket) {
  options_.socket_path = "/nonexistent-ergw/bird.ctl";
  client_ = std::make_unique<BirdClient>(io_.get_executor(), clock_, options_);
  auto reply = send("show status");
  ASSERT_TRUE(reply && !reply->ok());
  EXPECT_NE(reply->error().find("/nonexistent-ergw/bird.ctl"), std::string::npos);
}

TEST_F(BirdClientTest, TypedQueriesSendTheDocumentedCommands) {
  bird_.on("show protocols all \"ergw_*\"", read_capture("show_protocols_all_established.txt"));
  bird_.on("show route all table master4 protocol ergw_azure0", read_capture("show_route_all_alternative.txt"));
  std::optional<Result<std::vector<ProtocolStatus>>> protocols;
  std::optional<Result<std::vector<Route>>> routes;
  std::optional<Result<DaemonStatus>> status;
  std::vector<std::string> refused;
  query_protocols(*client_, "ergw_*", [&](auto r) { protocols.emplace(std::move(r)); });
  query_routes(*client_, RouteQuery{"master4", "ergw_azure0", true}, [&](auto r) { routes.emplace(std::move(r)); });
  query_status(*client_, [&](auto r) { status.emplace(std::move(r)); });
  // Names that are not BIRD symbols never reach BIRD.
  query_routes(*client_, RouteQuery{"master4; shutdown", "", true}, [&](auto r) { refused.push_back(r.error()); });
  query_protocols(*client_, "a\"b", [&](auto r) { refused.push_back(r.error()); });
  switch_protocol(*client_, "p1 down", ProtocolSwitch::disable, [&](Status s) { refused.push_back(s.error()); });
  clock_.settle();
  ASSERT_TRUE(protocols && protocols->ok()) << protocols->error();
  EXPECT_EQ((*protocols)->size(), 1u);
  ASSERT_TRUE(routes && routes->ok()) << routes->error();
  EXPECT_EQ((*routes)->size(), 2u);
  ASSERT_TRUE(status && status->ok());
  EXPECT_EQ((*status)->version, "BIRD 2.0.12");
  EXPECT_EQ(refused.size(), 3u);
  EXPECT_EQ(bird_.requests(), (std::vector<std::string>{"show protocols all \"ergw_*\"",
                                                         "show route all table master4 protocol ergw_azure0",
                                                         "show status"}));
}

TEST_F(BirdClientTest, EnableAndDisableReportBirdsRefusal) {
  bird_.on("disable ergw_azure0", "0009-ergw_azure0: disabled\n0000 \n");
  bird_.on("enable nosuch", read_capture("no_protocols_match.txt"));
  std::vector<std::string> results;
  switch_protocol(*client_, "ergw_azure0", ProtocolSwitch::disable, [&](Status s) { results.push_back(s ? "ok" : s.error()); });
  switch_protocol(*client_, "nosuch", ProtocolSwitch::enable, [&](Status s) { results.push_back(s ? "ok" : s.error()); });
  clock_.settle();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], "ok");
  EXPECT_NE(results[1].find("enable nosuch: BIRD said"), std::string::npos) << results[1];
}

class InstallConfigTest : public BirdClientTest {
 protected:
  void SetUp() override {
    dir_ = unique_path("conf");
    std::filesystem::create_directories(dir_);
    path_ = dir_ + "/bird.conf";
    std::ofstream(path_) << "# the running configuration\n";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ConfigOutcome install(const std::string& text) {
    std::optional<ConfigOutcome> out;
    install_config(*client_, path_, text, std::nullopt, [&](ConfigOutcome o) { out = std::move(o); });
    clock_.settle();
    EXPECT_TRUE(out) << "install_config did not complete";
    return out.value_or(ConfigOutcome{});
  }
  std::string file() const {
    std::ifstream in(path_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::string dir_, path_;
};

TEST_F(InstallConfigTest, ChecksThenRenamesThenConfigures) {
  bird_.on("configure check", read_capture("configure_check_ok.txt"));
  bird_.on("configure \"", read_capture("configure_in_progress.txt"));
  const ConfigOutcome outcome = install("# new\n");
  EXPECT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(file(), "# new\n");
  EXPECT_FALSE(std::filesystem::exists(path_ + ".new"));
  EXPECT_EQ(bird_.requests(),
            (std::vector<std::string>{"configure check \"" + path_ + ".new\"", "configure \"" + path_ + "\""}));
}

TEST_F(InstallConfigTest, RefusedCheckLeavesTheFileAndNeverConfigures) {
  bird_.on("configure check", read_capture("configure_check_syntax_error.txt"));
  const ConfigOutcome outcome = install("protocol bgp {\n");
  EXPECT_EQ(outcome.verdict, ConfigVerdict::refused);
  EXPECT_NE(outcome.message.find("syntax error, unexpected ';'"), std::string::npos) << outcome.message;
  EXPECT_EQ(file(), "# the running configuration\n");
  EXPECT_FALSE(std::filesystem::exists(path_ + ".new"));
  EXPECT_EQ(bird_.count("configure \""), 0);
}

TEST_F(InstallConfigTest, SilentBirdIsNotARefusal) {
  bird_.on("configure check", std::string());
  std::optional<ConfigOutcome> out;
  install_config(*client_, path_, "# new\n", std::nullopt, [&](ConfigOutcome o) { out = std::move(o); });
  clock_.advance(5s);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->verdict, ConfigVerdict::bird_not_answering);
  EXPECT_EQ(file(), "# the running configuration\n");
}

}  // namespace
}  // namespace ergw::routing
