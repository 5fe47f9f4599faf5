// `ergw diagnose` in the lab: the lab is broken in one way after another -
// a more specific route for the VNet via the underlay, a low path MTU, IKE
// not answered, the underlay down, a wrong PSK, an IKE proposal mismatch, a
// PFS mismatch, a prefix pair Azure does not propose (traffic selectors), a
// wrong BGP ASN - and each time the diagnosis (GET /v1/diagnose, as `ergw
// diagnose --json` prints it) must fail the check that names the cause. One
// lab serves several breakages where they do not interfere.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/cli/api_client.h"
#include "gateway/cli/diagnose_command.h"
#include "gateway/cli/status_command.h"
#include "lab/azure/azure_lab.h"
#include "lab/azure/lab_config_file.h"

namespace ergw::azure_lab {
namespace {

namespace fs = std::filesystem;
using lab::Node;
using std::chrono::seconds;

const fs::path kGolden = fs::path(ERGW_SOURCE_DIR) / "tests/gateway/policy/golden";
const fs::path kExamples = fs::path(ERGW_SOURCE_DIR) / "examples";

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

nlohmann::json& props(nlohmann::json& config) { return config["connections"][0]["azure"]["properties"]; }

bool fastpath_built() { return fs::exists(fs::path(ERGW_PLUGIN_DIR) / "libstrongswan-ergw-ipsec.so"); }

class DiagnoseLab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the lab builds network namespaces";
    dir_ = fs::path(::testing::TempDir()) / ("ergw-diagnose-" + std::to_string(getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (HasFailure() && lab_) {
      const auto out = lab_->lab().exec(Node::appliance,
                                        {"tail", "-n", "40", (lab_->lab().state_dir() / "ergwd.log").string()});
      std::cerr << "---- tail of ergwd.log\n" << out.out;
    }
    lab_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write(const std::string& name, const nlohmann::json& config) {
    return azure_lab::write_lab_config(dir_, name, config);
  }

  void start(const fs::path& config, const fs::path& azure_config = {}) {
    AzureLabOptions options;
    options.config_file = config;
    options.azure_config_file = azure_config;
    options.ergwd_path = ERGWD_PATH;
    if (fastpath_built()) {
      options.appliance_backend = lab::CharonBackend::ergw_ipsec;
      options.fastpath_path = ERGW_FASTPATH_PATH;
      options.ergw_ipsec_plugin_dir = ERGW_PLUGIN_DIR;
    }
    options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
    auto created = AzureLab::create(options);
    ASSERT_TRUE(created) << created.error();
    lab_ = std::move(created.value());
  }

  // GET /v1/diagnose on ergwd's local API socket, as `ergw diagnose --json`.
  nlohmann::json diagnose() {
    cli::ApiTarget target;
    target.socket = lab_->api_socket();
    target.timeout = seconds(120);
    const auto t0 = std::chrono::steady_clock::now();
    auto reply = cli::api_request(target, "GET", "/v1/diagnose");
    EXPECT_TRUE(reply) << (reply ? "" : reply.error());
    if (!reply) return nlohmann::json::object();
    EXPECT_EQ(reply->status, 200) << reply->body;
    std::cerr << "diagnosis took "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
              << " ms\n"
              << (reply->json ? cli::format_diagnosis(*reply->json) : reply->body);
    return reply->json.value_or(nlohmann::json::object());
  }

  static nlohmann::json finding(const nlohmann::json& diagnosis, const std::string& check) {
    for (const auto& f : diagnosis.value("findings", nlohmann::json::array())) {
      if (f.value("check", "") == check) return f;
    }
    return nlohmann::json::object();
  }

  // The check failed and its evidence names the cause.
  void expect_fail(const nlohmann::json& diagnosis, const std::string& check, const std::string& cause) {
    const auto f = finding(diagnosis, check);
    EXPECT_EQ(f.value("result", ""), "fail") << check << ": " << f.dump(2);
    EXPECT_NE(f.value("evidence", "").find(cause), std::string::npos) << check << ": " << f.dump(2);
    EXPECT_FALSE(f.value("fix", "").empty()) << check;
  }

  void expect_result(const nlohmann::json& diagnosis, const std::string& check, const std::string& result) {
    EXPECT_EQ(finding(diagnosis, check).value("result", ""), result) << finding(diagnosis, check).dump(2);
  }

  void ip(Node node, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = lab_->lab().exec(node, argv);
    ASSERT_TRUE(r.ok()) << r.err;
  }

  // Waits until GET /v1/status - the report ergwd publishes once a second,
  // which the diagnosis reads - satisfies `predicate` (the control socket's
  // status, which lab_->wait_for reads, is made fresh and may be ahead of it).
  Status wait_for(seconds timeout, const std::function<bool(const nlohmann::json&)>& predicate,
                  const std::string& what) {
    cli::ApiTarget target;
    target.socket = lab_->api_socket();
    target.timeout = seconds(10);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto reply = cli::api_request(target, "GET", "/v1/status");
      if (reply && reply->status == 200 && reply->json && predicate(*reply->json)) return Status::success();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return Error{"timed out waiting for " + what};
  }

  Status wait_for_error(const std::string& code, seconds timeout) {
    return wait_for(
        timeout,
        [&](const nlohmann::json& s) {
          const auto& c = s["connections"][0];
          return c.value("state", "") != "UP" && c.contains("last_error") &&
                 c["last_error"].value("code", "") == code;
        },
        "ergw status to report " + code);
  }

  fs::path dir_;
  std::unique_ptr<AzureLab> lab_;
};

// A healthy tunnel fails nothing; then, in turn: a more specific route for
// the VNet through the underlay, a path MTU of 1400, Azure's IKE daemon gone
// (ping answers, UDP 500 is refused), and the underlay link down.
TEST_F(DiagnoseLab, UnderlayRoutesMtuAndIkeBreakagesAreEachNamed) {
  auto config = read_json(kExamples / "lab.json");
  props(config)["dpdTimeoutSeconds"] = 9;  // the IKE breakage is seen within seconds
  start(write("lab", config));
  ASSERT_TRUE(lab_->wait_until_up(seconds(60)));
  // ergwd installs the MSS clamp within a second of the configuration; the
  // PFS probe concludes about a second after the tunnel is up.
  auto settled = wait_for(
      seconds(30),
      [](const nlohmann::json& s) {
        const auto clamp = s["data_plane"].value("mss_clamp", nlohmann::json::object());
        return !clamp.value("connections", nlohmann::json::array()).empty() &&
               s["connections"][0].value("pfs", nlohmann::json::object()).value("probe", "") == "verified";
      },
      "the MSS clamp installed and the PFS probe verified");
  ASSERT_TRUE(settled) << settled.error();

  auto d = diagnose();
  for (const auto& f : d["findings"]) {
    EXPECT_NE(f.value("result", ""), "fail") << f.dump(2);
  }
  for (const char* check : {"underlay", "path_mtu", "ike_reachability", "ike_proposal", "psk", "traffic_selectors",
                            "unencrypted_path"}) {
    expect_result(d, check, "ok");
  }
  expect_result(d, "mss_mtu", "ok");
  expect_result(d, "pfs", "ok");

  // ExpressRoute's route for part of the VNet, more specific than the tunnel's.
  ip(Node::appliance, {"route", "add", "10.0.2.128/25", "via", "172.16.0.2", "dev", "wan0"});
  d = diagnose();
  expect_fail(d, "unencrypted_path", "10.0.2.128/25 via 172.16.0.2 dev wan0");
  ip(Node::appliance, {"route", "del", "10.0.2.128/25"});

  // A hop that carries 1400 bytes only, and says nothing (a PMTU black hole).
  ip(Node::azure_gw, {"link", "set", "wan0", "mtu", "1400"});
  d = diagnose();
  expect_fail(d, "path_mtu", "pings of 1400 bytes reach 172.16.0.2");
  expect_result(d, "underlay", "ok");
  ip(Node::azure_gw, {"link", "set", "wan0", "mtu", "1500"});

  // Azure's IKE daemon gone: ping answers, IKE does not; DPD takes the tunnel down.
  lab_->lab().supervisor().stop("charon-azure-gw");
  ASSERT_TRUE(wait_for_error("peer_unreachable", seconds(60)));
  d = diagnose();
  expect_result(d, "underlay", "ok");
  expect_fail(d, "ike_reachability", "UDP 500: ICMP port unreachable");

  // The underlay itself down.
  ip(Node::azure_gw, {"link", "set", "wan0", "down"});
  d = diagnose();
  expect_fail(d, "underlay", "ping 172.16.0.2: 3 of 3 echoes unanswered");
  expect_result(d, "path_mtu", "skipped");
}

// ergw dials (ResponderOnly) against Azure with another key: psk; Azure with
// the right key and another IKE policy: ike_proposal; Azure with that policy
// back and no PFS against ergw's PFS2048: pfs (the tunnel is up).
TEST_F(DiagnoseLab, WrongPskThenProposalThenPfsMismatchAreEachNamed) {
  auto config = read_json(kGolden / "aes256-sha256-dh14-pfs2048.json");
  props(config)["connectionMode"] = "ResponderOnly";
  auto azure = config;
  props(azure)["sharedKey"] = "AnotherKeyThanErgwHas0123456789";
  start(write("ergw", config), write("azure-wrong-key", azure));
  ASSERT_TRUE(wait_for_error("peer_refused_authentication", seconds(60)));
  auto d = diagnose();
  expect_fail(d, "psk", "Azure refused ergw's authentication");
  expect_result(d, "ike_reachability", "ok");
  EXPECT_EQ(d.dump().find("AnotherKeyThanErgwHas"), std::string::npos);
  EXPECT_EQ(d.dump().find(props(config)["sharedKey"].get<std::string>()), std::string::npos);

  azure = config;
  props(azure)["ipsecPolicies"][0]["dhGroup"] = "ECP384";
  ASSERT_TRUE(lab_->load_azure_side(write("azure-other-dh", azure)));
  ASSERT_TRUE(wait_for_error("peer_refused_proposal", seconds(60)));
  d = diagnose();
  expect_fail(d, "ike_proposal", "no proposal chosen");

  azure = config;
  props(azure)["ipsecPolicies"][0]["pfsGroup"] = "None";
  ASSERT_TRUE(lab_->load_azure_side(write("azure-no-pfs", azure)));
  auto mismatch = wait_for(
      seconds(90),
      [](const nlohmann::json& s) {
        return s["connections"][0].value("pfs", nlohmann::json::object()).value("probe", "") == "mismatch";
      },
      "the PFS probe to find the mismatch");
  ASSERT_TRUE(mismatch) << mismatch.error();
  d = diagnose();
  expect_fail(d, "pfs", "PFS mismatch: ergw has PFS (pfsGroup PFS2048)");
  expect_result(d, "psk", "ok");
}

// Policy-based, Azure proposes one of the two prefix pairs (InitiatorOnly):
// the IKE SA is up, the other pair has no CHILD SA.
TEST_F(DiagnoseLab, APrefixPairAzureDoesNotProposeIsTheTrafficSelectors) {
  auto config = read_json(kGolden / "policy-based.json");
  props(config)["connectionMode"] = "InitiatorOnly";
  props(config)["trafficSelectorPolicies"] = {
      {{"localAddressRanges", {"10.0.1.0/24", "10.0.2.0/24"}}, {"remoteAddressRanges", {"192.168.10.0/24"}}}};
  config["connections"][0]["azureGateway"]["vnetPrefixes"] = {"10.0.1.0/24", "10.0.2.0/24"};
  auto azure = config;
  props(azure)["trafficSelectorPolicies"] = {
      {{"localAddressRanges", {"10.0.1.0/24"}}, {"remoteAddressRanges", {"192.168.10.0/24"}}}};
  start(write("ergw", config), write("azure-one-pair", azure));
  auto partial = wait_for(
      seconds(60), [](const nlohmann::json& s) { return s["connections"][0].value("state", "") == "PARTIAL"; },
      "the tunnel to be PARTIAL");
  ASSERT_TRUE(partial) << partial.error();
  auto d = diagnose();
  expect_fail(d, "traffic_selectors", "10_0_2_0/24 (missing)");
}

// BGP: ergw expects Azure's ASN to be 65516; Azure is 65515.
TEST_F(DiagnoseLab, AWrongAzureAsnIsTheBgpSession) {
  if (!fs::exists("/usr/sbin/bird")) GTEST_SKIP() << "needs BIRD 2 (/usr/sbin/bird)";
  auto config = read_json(kExamples / "lab-bgp.json");
  auto ergw = config;
  ergw["connections"][0]["azureGateway"]["bgpSettings"]["asn"] = 65516;
  start(write("ergw", ergw), write("azure", config));
  ASSERT_TRUE(lab_->wait_until_up(seconds(60)));
  auto refused = wait_for(
      seconds(60),
      [](const nlohmann::json& s) {
        for (const auto& x : s.value("bgp", nlohmann::json::object()).value("sessions", nlohmann::json::array())) {
          if (x.value("last_error", "").find("Bad peer AS") != std::string::npos) return true;
        }
        return false;
      },
      "BIRD to report Bad peer AS");
  ASSERT_TRUE(refused) << refused.error();
  auto d = diagnose();
  expect_fail(d, "bgp_session", "Bad peer AS");
}

}  // namespace
}  // namespace ergw::azure_lab
