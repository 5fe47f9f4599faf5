#include "gateway/api/management_service.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "common/parse_json.h"
#include "gateway/api/connection_resource.h"
#include "gateway/policy/connection_members.h"
#include "gateway/store/revision_store.h"
#include "gateway/store/store_file.h"
#include "tests/gateway/api/fake_backend.h"

namespace ergw::api {
namespace {

nlohmann::json lab(const std::string& key = "LabOnlyKey4ergwDemo0123456789abcd", int dpd = 45) {
  std::ifstream in(std::string(ERGW_SOURCE_DIR) + "/examples/lab.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = *parse_json(text);
  doc["connections"][0]["azure"]["properties"]["sharedKey"] = key;
  doc["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"] = dpd;
  return doc;
}

class ManagementServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ergw-service-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = std::move(store::open_store((dir_ / "store.db").string()).value());
    audit_ = std::move(AuditLog::open((dir_ / "audit.log").string()).value());
    testing::FakeBackendOptions fake;
    fake.apply_delay = std::chrono::milliseconds(5);
    fake.up_delay = std::chrono::milliseconds(50);
    fake.tick = std::chrono::milliseconds(20);
    backend_ = std::make_unique<testing::FakeBackend>(io_, board_, fake);
    options_.min_confirm_seconds = 1;
    options_.track_limit = std::chrono::seconds(3);
    options_.track_interval = std::chrono::milliseconds(20);
  }
  void TearDown() override {
    service_.reset();
    backend_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  ManagementService& service() {
    if (!service_) {
      service_ = std::make_unique<ManagementService>(io_, *db_, store::RevisionStoreOptions{}, *backend_, board_,
                                                     *audit_, options_);
      EXPECT_TRUE(service_->start());
    }
    return *service_;
  }
  // Runs the loop until the reply arrives.
  template <typename Call>
  ServiceReply call(Call&& c) {
    std::optional<ServiceReply> reply;
    c([&](ServiceReply r) { reply = std::move(r); });
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!reply && std::chrono::steady_clock::now() < give_up) io_.run_one_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(reply) << "no reply";
    return reply.value_or(ServiceReply{});
  }
  WriteOptions write(std::optional<int64_t> if_match, std::optional<int64_t> confirm = std::nullopt) {
    WriteOptions o;
    o.actor = {"tester", "test"};
    o.action = "test";
    o.if_match = if_match;
    o.confirm_seconds = confirm;
    o.wait = std::chrono::seconds(5);
    return o;
  }
  ServiceReply put(const nlohmann::json& doc, std::optional<int64_t> if_match,
                   std::optional<int64_t> confirm = std::nullopt) {
    return call([&](ReplyFn done) { service().put_config(doc, write(if_match, confirm), done); });
  }
  void run_for(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) io_.run_one_for(std::chrono::milliseconds(20));
  }
  store::Head head() { return store::read_head(*db_).value(); }

  std::filesystem::path dir_;
  boost::asio::io_context io_;
  SnapshotBoard board_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<testing::FakeBackend> backend_;
  ServiceOptions options_;
  std::unique_ptr<ManagementService> service_;
};

TEST_F(ManagementServiceTest, ApplyReportsTheTunnels) {
  auto r = put(lab(), 0);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["result"], "applied");
  EXPECT_EQ(r.body["apply"]["connections"][0]["state"], "up");
  EXPECT_EQ(r.etag, 1);
  EXPECT_EQ(head().active, 1);
  EXPECT_EQ(board_.config().active_revision, 1);
  EXPECT_EQ(backend_->running_keys().at("azure-hub"), "LabOnlyKey4ergwDemo0123456789abcd");
}

TEST_F(ManagementServiceTest, PreconditionsComeFirst) {
  EXPECT_EQ(put(lab(), std::nullopt).status, 412);
  EXPECT_EQ(put(lab(), 5).status, 412);
  ASSERT_EQ(put(lab(), 0).status, 200);
  EXPECT_EQ(put(lab(), 0).status, 412);
  auto unchanged = put(lab(), 1);
  EXPECT_EQ(unchanged.status, 200);
  EXPECT_EQ(unchanged.body["result"], "unchanged");
  EXPECT_EQ(head().active, 1);
}

TEST_F(ManagementServiceTest, InvalidIsRefusedWhole) {
  auto doc = lab();
  doc["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"] = 1;
  doc["connections"][0]["local"]["asn"] = "sixty";
  auto r = put(doc, 0);
  EXPECT_EQ(r.status, 422);
  EXPECT_GE(r.body["diagnostics"].size(), 2u);
  EXPECT_FALSE(head().active);
  EXPECT_EQ(backend_->applies(), 0);
}

TEST_F(ManagementServiceTest, ARefusedApplyRestoresThePreviousRevision) {
  ASSERT_EQ(put(lab("GoodKey0123456789abcdefghij"), 0).status, 200);
  auto r = put(lab("charonrefuses0123456789abcdef"), 1);
  EXPECT_EQ(r.status, 502) << r.body.dump();
  EXPECT_EQ(r.body["restored_revision"], 1);
  EXPECT_EQ(head().active, 1);
  EXPECT_EQ(backend_->running_keys().at("azure-hub"), "GoodKey0123456789abcdefghij");
  EXPECT_EQ(board_.config().apply_failures, 1u);
}

TEST_F(ManagementServiceTest, ConfirmKeepsTheRevision) {
  ASSERT_EQ(put(lab(), 0).status, 200);
  auto r = put(lab("AnotherKey0123456789abcdefgh"), 1, 2);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_TRUE(r.body.contains("confirm"));
  EXPECT_EQ(head().pending, 2);
  EXPECT_EQ(put(lab("ThirdKey0123456789abcdefghij"), 2).status, 409);
  auto wrong = call([&](ReplyFn done) { service().confirm(write(1), done); });
  EXPECT_EQ(wrong.status, 412);
  auto ok = call([&](ReplyFn done) { service().confirm(write(2), done); });
  EXPECT_EQ(ok.status, 200);
  run_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(head().active, 2);
  EXPECT_FALSE(head().pending);
}

TEST_F(ManagementServiceTest, AConfirmationDeadlineIsNeverEarlierThanAsked) {
  ASSERT_EQ(put(lab(), 0).status, 200);
  const auto asked_at = std::chrono::system_clock::now();
  ASSERT_EQ(put(lab("AnotherKey0123456789abcdefgh"), 1, 2).status, 200);
  const auto deadline = std::chrono::system_clock::time_point(std::chrono::seconds(head().confirm_deadline.value()));
  // Whole seconds, rounded up: a deadline rounded down would roll back up to a second early.
  EXPECT_GE(deadline, asked_at + std::chrono::seconds(2));
  EXPECT_LE(deadline, asked_at + std::chrono::seconds(4));
}

TEST_F(ManagementServiceTest, AMissedConfirmationRollsBack) {
  ASSERT_EQ(put(lab("GoodKey0123456789abcdefghij"), 0).status, 200);
  auto r = put(lab("wrongKey0123456789abcdefghij"), 1, 1);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["apply"]["connections"][0]["state"], "failed");
  EXPECT_EQ(r.body["apply"]["connections"][0]["reason"], "authentication failed");
  // The deadline is kept in whole wall-clock seconds: 1 s from now lands up
  // to 2 s later; a third second for a loaded machine.
  run_for(std::chrono::milliseconds(3000));
  EXPECT_EQ(head().active, 1);
  EXPECT_FALSE(head().pending);
  EXPECT_EQ(backend_->running_keys().at("azure-hub"), "GoodKey0123456789abcdefghij");
  auto revision = store::read_revision(*db_, 2).value();
  EXPECT_TRUE(revision->info.reverted_at);
}

TEST_F(ManagementServiceTest, AnExpiredDeadlineIsHonouredAtStart) {
  {
    store::RevisionStore s(*db_);
    store::NewRevision first;
    first.document = lab().dump();
    first.author = "x";
    ASSERT_TRUE(s.commit(first));
    store::NewRevision second = first;
    second.document = lab("x", 50).dump();
    ASSERT_TRUE(s.commit(second, 1000));  // long past
  }
  service();
  EXPECT_EQ(head().active, 1);
  EXPECT_FALSE(head().pending);
}

TEST_F(ManagementServiceTest, ConnectionWritesUseTheBodysPaths) {
  ASSERT_EQ(put(lab(), 0).status, 200);
  nlohmann::json body = {{"properties", lab()["connections"][0]["azure"]["properties"]},
                         {"ergw", {{"azureGateway", {{"tunnelIpAddresses", {"192.0.2.9"}}}}, {"local", {{"address", "not-an-address"}}}}}};
  body["properties"]["dpdTimeoutSeconds"] = 3;
  auto r = call([&](ReplyFn done) { service().put_connection("spoke", body, write(1), done); });
  ASSERT_EQ(r.status, 422) << r.body.dump();
  std::string paths;
  for (const auto& d : r.body["diagnostics"]) paths += d["path"].get<std::string>() + " ";
  EXPECT_NE(paths.find("properties.dpdTimeoutSeconds"), std::string::npos) << paths;
  EXPECT_NE(paths.find("ergw.local.address"), std::string::npos) << paths;
}

// A PUT /v1/connections/{name} keeps every member of ergw's own block that
// the configuration has: the resource shown afterwards carries each one back
// (pfsProbe was once dropped by a list of the API's own). The members come
// from policy::kConnectionMembers, so a member added there without a sample
// here fails this test instead of vanishing from the API.
TEST_F(ManagementServiceTest, APutKeepsEveryMemberOfErgwsBlock) {
  ASSERT_EQ(put(lab(), 0).status, 200);
  const auto hub = lab()["connections"][0];
  const std::map<std::string, nlohmann::json, std::less<>> samples = {
      {"azureGateway", hub["azureGateway"]},
      {"local", hub["local"]},
      {"localNetworkGateway",
       {{"name", "ergw-lab"},
        {"properties",
         {{"gatewayIpAddress", "172.16.0.1"}, {"localNetworkAddressSpace", {{"addressPrefixes", {"192.168.10.0/24"}}}}}}}},
      {"interfaceId", 7},
      {"ipsecPolicy", "sa-lifetime=27000 sa-max-size=102400000 ipsec-encryption=GCMAES256 ipsec-integrity=GCMAES256 "
                      "ike-encryption=GCMAES256 ike-integrity=SHA384 dh-group=ECP384 pfs-group=ECP384"},
      {"pfsProbe", false},
      {"tcpMss", 1300},
      {"preferredInstance", "none"},
      {"bgpPassword", "Sample-Bgp-Password-5e1d"},
  };
  nlohmann::json body = {{"properties", hub["azure"]["properties"]}, {"ergw", nlohmann::json::object()}};
  for (const auto& m : policy::kConnectionMembers) {
    if (m.exposure != policy::MemberExposure::shown && m.exposure != policy::MemberExposure::secret) continue;
    auto sample = samples.find(m.key);
    ASSERT_NE(sample, samples.end()) << "no sample for ergw." << m.key << ": add one to this test";
    body["ergw"][std::string(m.key)] = sample->second;
  }
  auto r = call([&](ReplyFn done) { service().put_connection("azure-hub", body, write(1), done); });
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body.dump().find("Sample-Bgp-Password"), std::string::npos);

  const auto revision = store::read_revision(*db_, head().active.value()).value();
  ASSERT_TRUE(revision);
  const auto document = parse_json(revision->document);
  ASSERT_TRUE(document);
  EXPECT_EQ(revision->document.find("Sample-Bgp-Password"), std::string::npos) << "a secret in the document";
  const auto index = find_connection(*document, "azure-hub");
  ASSERT_TRUE(index);
  const auto shown = connection_resource(*document, *index, "azure-hub", nullptr, Provisioning::succeeded);
  for (const auto& m : policy::kConnectionMembers) {
    const std::string key(m.key);
    switch (m.exposure) {
      case policy::MemberExposure::shown:
        EXPECT_EQ(shown["ergw"].value(key, nlohmann::json()), body["ergw"][key]) << "ergw." << key << " lost";
        break;
      case policy::MemberExposure::secret:
      case policy::MemberExposure::appliance_file:
        EXPECT_FALSE(shown["ergw"].contains(key)) << "ergw." << key << " shown";
        break;
      case policy::MemberExposure::envelope: break;
    }
  }
  EXPECT_EQ(shown["properties"]["dpdTimeoutSeconds"], hub["azure"]["properties"]["dpdTimeoutSeconds"]);
  EXPECT_EQ(store::read_changed_secrets(*db_, 1, head().active.value()).value(),
            std::vector<std::string>{store::bgp_password_secret("azure-hub")});
}

TEST_F(ManagementServiceTest, SharedKeyReplacedNeverShown) {
  ASSERT_EQ(put(lab(), 0).status, 200);
  auto r = call([&](ReplyFn done) {
    service().put_shared_key("azure-hub", {{"value", "Rotated0123456789abcdefghij"}}, write(1), done);
  });
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body.dump().find("Rotated"), std::string::npos);
  EXPECT_EQ(backend_->running_keys().at("azure-hub"), "Rotated0123456789abcdefghij");
  auto missing = call([&](ReplyFn done) { service().put_shared_key("nope", {{"value", "x"}}, write(2), done); });
  EXPECT_EQ(missing.status, 404);
}

TEST_F(ManagementServiceTest, TheFileBecomesTheFirstRevisionAndFollowsTheStore) {
  const auto file = dir_ / "ergw.json";
  std::ofstream(file) << lab().dump(2);
  options_.config_file = file.string();
  service();
  EXPECT_EQ(head().active, 1);
  auto exported = parse_json(std::string((std::istreambuf_iterator<char>(std::ifstream(file).rdbuf())),
                                         std::istreambuf_iterator<char>()));
  ASSERT_TRUE(exported);
  EXPECT_EQ((*exported)["connections"][0]["sharedKeyFile"], (dir_ / "keys" / "azure-hub.psk").string());
  EXPECT_FALSE((*exported)["connections"][0]["azure"]["properties"].contains("sharedKey"));
  EXPECT_EQ(std::filesystem::status(dir_ / "keys" / "azure-hub.psk").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(ManagementServiceTest, ApiKeys) {
  Actor root{"root (local socket)", "local"};
  auto r = call([&](ReplyFn done) { service().create_api_key({{"name", "ci"}, {"scope", "admin"}}, root, done); });
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(r.body["key"].get<std::string>().rfind("ergw_", 0), 0u);
  EXPECT_EQ(call([&](ReplyFn done) { service().create_api_key({{"name", "ci"}, {"scope", "read"}}, root, done); })
                .status,
            409);
  EXPECT_EQ(call([&](ReplyFn done) { service().create_api_key({{"name", "x"}}, root, done); }).status, 422);
  EXPECT_EQ(call([&](ReplyFn done) { service().revoke_api_key("ci", root, done); }).status, 204);
  EXPECT_EQ(call([&](ReplyFn done) { service().revoke_api_key("ci", root, done); }).status, 404);
}

}  // namespace
}  // namespace ergw::api
