// Typed command wrappers against FakeCharon: request shapes, reply parsing,
// success=no handling, and that secrets stay out of errors.
#include "vici/commands.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include "tests/vici/fake_charon.h"
#include "tests/vici/run_until.h"
#include "tests/vici/sample_messages.h"
#include "vici/message_codec.h"

namespace ergw::vici {
namespace {

using namespace std::chrono_literals;
using testing::FakeCharon;

Message success() { return testing::success_reply(); }
Message failure(std::string_view errmsg) { return testing::failure_reply(errmsg); }

class ViciCommandsTest : public ::testing::Test {
 protected:
  ViciCommandsTest()
      : path_("/tmp/ergw-vici-cmd-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sock"),
        charon_(io_, path_) {
    charon_.listen();
    ClientOptions options;
    options.socket_path = path_;
    client_ = std::make_unique<Client>(io_.get_executor(), options);
    bool up = false;
    client_->on_connected([&] { up = true; });
    client_->start();
    EXPECT_TRUE(run_until([&] { return up; }));
  }

  // Records the request and answers with fixed packets.
  void answer(const std::string& command, std::vector<Packet> packets) {
    charon_.on_command(command, [this, packets](FakeCharon::Session&, const Message& request) {
      requests_.push_back(request);
      return packets;
    });
  }

  template <typename Pred>
  bool run_until(Pred done) {
    return testing::run_until(io_, done, 10s);
  }

  template <typename T>
  T wait(std::optional<T>& slot) {
    EXPECT_TRUE(run_until([&] { return slot.has_value(); }));
    return std::move(*slot);
  }

  boost::asio::io_context io_;
  std::string path_;
  FakeCharon charon_;
  std::unique_ptr<Client> client_;
  std::vector<Message> requests_;
};

TEST_F(ViciCommandsTest, Version) {
  Message reply;
  reply.set("daemon", "charon").set("version", "5.9.8").set("sysname", "Linux");
  reply.set("release", "6.1.0").set("machine", "x86_64");
  answer("version", {Packet::response(reply)});
  std::optional<Result<VersionInfo>> got;
  version(*client_, [&](Result<VersionInfo> r) { got = std::move(r); });
  Result<VersionInfo> info = wait(got);
  ASSERT_TRUE(info) << info.error();
  EXPECT_EQ(info->daemon, "charon");
  EXPECT_EQ(info->version, "5.9.8");
  EXPECT_EQ(info->machine, "x86_64");
}

TEST_F(ViciCommandsTest, VersionWithoutFieldsIsAnError) {
  answer("version", {Packet::response()});
  std::optional<Result<VersionInfo>> got;
  version(*client_, [&](Result<VersionInfo> r) { got = std::move(r); });
  EXPECT_FALSE(wait(got));
}

TEST_F(ViciCommandsTest, Stats) {
  Message reply;
  reply.section("uptime").set("running", "5 minutes").set("since", "Nov 22 07:00:00 2026");
  reply.section("workers").set("total", "16").set("idle", "11");
  reply.set("scheduled", "3");
  reply.section("ikesas").set("total", "2").set("half-open", "1");
  reply.set_list("plugins", {"aes", "vici"});
  answer("stats", {Packet::response(reply)});
  std::optional<Result<StatsInfo>> got;
  stats(*client_, [&](Result<StatsInfo> r) { got = std::move(r); });
  Result<StatsInfo> info = wait(got);
  ASSERT_TRUE(info) << info.error();
  EXPECT_EQ(info->uptime_running, "5 minutes");
  EXPECT_EQ(info->workers_total, 16u);
  EXPECT_EQ(info->ikesas_total, 2u);
  EXPECT_EQ(info->ikesas_half_open, 1u);
  EXPECT_EQ(info->plugins, (std::vector<std::string>{"aes", "vici"}));
}

TEST_F(ViciCommandsTest, LoadConnWrapsConfigInItsName) {
  answer("load-conn", {Packet::response(success())});
  Section config;
  config.set_list("remote_addrs", {"198.51.100.7"}).set("version", "2");
  std::optional<Status> got;
  load_conn(*client_, "azure", config, [&](Status s) { got = std::move(s); });
  EXPECT_TRUE(wait(got));
  ASSERT_EQ(requests_.size(), 1u);
  ASSERT_TRUE(requests_[0].get_section("azure"));
  EXPECT_EQ(**requests_[0].get_section("azure"), config);
}

TEST_F(ViciCommandsTest, SuccessNoBecomesErrorWithErrmsg) {
  answer("load-conn", {Packet::response(failure("unknown option: bogus, config discarded"))});
  std::optional<Status> got;
  load_conn(*client_, "azure", {}, [&](Status s) { got = std::move(s); });
  Status status = wait(got);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), "load-conn failed: unknown option: bogus, config discarded");
}

TEST_F(ViciCommandsTest, MissingSuccessIsAnError) {
  answer("unload-conn", {Packet::response()});
  std::optional<Status> got;
  unload_conn(*client_, "azure", [&](Status s) { got = std::move(s); });
  EXPECT_FALSE(wait(got));
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(*requests_[0].get_string("name"), "azure");
}

TEST_F(ViciCommandsTest, LoadSharedSendsTheSecretButNeverReportsIt) {
  answer("load-shared", {Packet::response(failure("loading IKE shared key failed"))});
  std::optional<Status> got;
  SharedKeyInfo key{"psk-azure", "IKE", {"192.0.2.1", "198.51.100.7"}};
  load_shared(*client_, key, "Sup3rS3cretPSK", [&](Status s) { got = std::move(s); });
  Status status = wait(got);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().find("Sup3rS3cret"), std::string::npos);
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(*requests_[0].get_string("data"), "Sup3rS3cretPSK");
  EXPECT_EQ(*requests_[0].get_string("id"), "psk-azure");
  EXPECT_EQ(*requests_[0].get_string("type"), "IKE");
  EXPECT_EQ(requests_[0].get_list("owners").value()->size(), 2u);
  EXPECT_EQ(to_debug_string(requests_[0]).find("Sup3rS3cret"), std::string::npos);
}

TEST_F(ViciCommandsTest, GetConnsAndGetShared) {
  Message conns;
  conns.set_list("conns", {"a", "b"});
  answer("get-conns", {Packet::response(conns)});
  Message keys;
  keys.set_list("keys", {"psk-a"});
  answer("get-shared", {Packet::response(keys)});
  std::optional<Result<std::vector<std::string>>> got_conns;
  std::optional<Result<std::vector<std::string>>> got_keys;
  get_conns(*client_, [&](auto r) { got_conns = std::move(r); });
  get_shared(*client_, [&](auto r) { got_keys = std::move(r); });
  EXPECT_EQ(*wait(got_conns), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*wait(got_keys), (std::vector<std::string>{"psk-a"}));
}

TEST_F(ViciCommandsTest, UnloadShared) {
  answer("unload-shared", {Packet::response(success())});
  std::optional<Status> got;
  unload_shared(*client_, "psk-azure", [&](Status s) { got = std::move(s); });
  EXPECT_TRUE(wait(got));
  EXPECT_EQ(*requests_.at(0).get_string("id"), "psk-azure");
}

TEST_F(ViciCommandsTest, ListSasIsTyped) {
  answer("list-sas", {Packet::event("list-sa", testing::sample_list_sa_event()),
                      Packet::event("list-sa", testing::sample_list_sa_event()),
                      Packet::response()});
  std::optional<Result<std::vector<IkeSaInfo>>> got;
  list_sas(*client_, ListSasFilter{.ike = "azure", .ike_id = std::nullopt, .child = "",
                                   .child_id = std::nullopt, .noblock = true},
           [&](auto r) { got = std::move(r); });
  Result<std::vector<IkeSaInfo>> sas = wait(got);
  ASSERT_TRUE(sas) << sas.error();
  ASSERT_EQ(sas->size(), 2u);
  EXPECT_EQ((*sas)[1].child_sas.at(0).spi_in, "c8a1b2c3");
  EXPECT_EQ(*requests_.at(0).get_string("ike"), "azure");
  EXPECT_TRUE(*requests_.at(0).get_bool("noblock"));
}

TEST_F(ViciCommandsTest, ListConns) {
  Message conn;
  conn.section("azure").set_list("remote_addrs", {"198.51.100.7"}).section("children").section("net");
  answer("list-conns", {Packet::event("list-conn", conn), Packet::response()});
  std::optional<Result<std::vector<ConnInfo>>> got;
  list_conns(*client_, std::nullopt, [&](auto r) { got = std::move(r); });
  Result<std::vector<ConnInfo>> conns = wait(got);
  ASSERT_TRUE(conns) << conns.error();
  ASSERT_EQ(conns->size(), 1u);
  EXPECT_EQ(conns->at(0).children, (std::vector<std::string>{"net"}));
}

Message log_line(std::string_view msg) {
  Message m;
  m.set("group", "IKE").set("level", "1").set("ikesa-name", "azure").set("ikesa-uniqueid", "4");
  m.set("msg", msg);
  return m;
}

TEST_F(ViciCommandsTest, InitiateCollectsControlLog) {
  answer("initiate", {Packet::event("control-log", log_line("initiating IKE_SA azure[4]")),
                      Packet::event("control-log", log_line("CHILD_SA net{1} established")),
                      Packet::response(success())});
  std::optional<Result<std::vector<ControlLogLine>>> got;
  InitiateRequest request;
  request.child = "net";
  request.ike = "azure";
  request.timeout_ms = 2000;
  initiate(*client_, request, [&](auto r) { got = std::move(r); });
  Result<std::vector<ControlLogLine>> log = wait(got);
  ASSERT_TRUE(log) << log.error();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ(log->at(1).message, "CHILD_SA net{1} established");
  EXPECT_EQ(log->at(0).ike_uniqueid, 4u);
  EXPECT_EQ(*requests_.at(0).get_int("timeout"), 2000);
  EXPECT_EQ(*requests_.at(0).get_string("child"), "net");
}

TEST_F(ViciCommandsTest, InitiateFailureCarriesErrmsgAndLastLog) {
  answer("initiate",
         {Packet::event("control-log", log_line("received AUTHENTICATION_FAILED notify error")),
          Packet::response(failure("establishing CHILD_SA 'net' failed"))});
  std::optional<Result<std::vector<ControlLogLine>>> got;
  InitiateRequest request;
  request.child = "net";
  initiate(*client_, request, [&](auto r) { got = std::move(r); });
  Result<std::vector<ControlLogLine>> log = wait(got);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().find("establishing CHILD_SA 'net' failed"), std::string::npos);
  EXPECT_NE(log.error().find("AUTHENTICATION_FAILED"), std::string::npos);
}

TEST_F(ViciCommandsTest, TerminateAndRekey) {
  Message reply = success();
  reply.set("matches", "1").set("terminated", "1");
  answer("terminate", {Packet::event("control-log", log_line("deleting IKE_SA")),
                       Packet::response(reply)});
  Message rekeyed = success();
  rekeyed.set("matches", "2");
  answer("rekey", {Packet::response(rekeyed)});
  std::optional<Result<TerminateResult>> terminated;
  terminate(*client_, TerminateRequest{.child = "", .ike = "azure", .child_id = std::nullopt,
                                       .ike_id = 7, .force = true, .timeout_ms = 1000},
            [&](auto r) { terminated = std::move(r); });
  std::optional<Result<uint64_t>> matches;
  rekey(*client_, RekeyRequest{.child = "net", .ike = "", .child_id = std::nullopt,
                               .ike_id = std::nullopt, .reauth = false},
        [&](auto r) { matches = std::move(r); });
  Result<TerminateResult> t = wait(terminated);
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->terminated, 1u);
  EXPECT_EQ(t->log.size(), 1u);
  EXPECT_EQ(*wait(matches), 2u);
  EXPECT_EQ(*requests_.at(0).get_uint("ike-id"), 7u);
  EXPECT_TRUE(*requests_.at(0).get_bool("force"));
  EXPECT_EQ(*requests_.at(1).get_string("child"), "net");
}

}  // namespace
}  // namespace ergw::vici
