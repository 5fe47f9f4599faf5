// The BGP session's TCP MD5 password (RFC 2385) in the lab: ergwd writes it
// into BIRD's configuration (mode 0600) from the connection's bgpPassword;
// the simulated gateway's BIRD gets its own from the lab's own code
// (lab/azure/azure_bird.cc), never from ergw's compiler. Azure's VPN gateway
// supports no BGP password: the lab's BIRD stands for a peer that does.
//  - the same password on both sides: the session establishes and the VNet
//    route is learned; the password is in neither the status, ergwd's log,
//    the API's answers, the audit log nor the stored revisions;
//  - another password on the simulated side: the session stays down, and the
//    status says why (the kernel's TCPMD5Failure count); with the password
//    corrected by a reload it establishes.
// TCP MD5 needs the kernel's TCP_MD5SIG: probed, and said, before anything runs.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/cli/status_command.h"
#include "gateway/ergwd/tcp_md5_evidence.h"
#include "lab/azure/azure_lab.h"
#include "lab/azure/lab_config_file.h"

namespace ergw::azure_lab {
namespace {

namespace fs = std::filesystem;
using lab::Node;
using std::chrono::seconds;

constexpr const char* kPassword = "LabMd5-Pass-5a1d9e";
constexpr const char* kOtherPassword = "LabMd5-Other-77b2c0";

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

nlohmann::json lab_bgp(const std::string& password) {
  std::ifstream in(fs::path(ERGW_SOURCE_DIR) / "examples" / "lab-bgp.json");
  auto config = nlohmann::json::parse(in);
  config["connections"][0]["bgpPassword"] = password;
  return config;
}

const nlohmann::json* session(const nlohmann::json& status) {
  if (!status.contains("bgp") || status["bgp"].value("sessions", nlohmann::json::array()).empty()) return nullptr;
  return &status["bgp"]["sessions"][0];
}

bool established(const nlohmann::json& status) {
  const auto* s = session(status);
  if (s == nullptr || s->value("state", "") != "Established") return false;
  for (const auto& r : status["bgp"].value("routes", nlohmann::json::array())) {
    if (r.value("prefix", "") == "10.0.0.0/16" && r.value("installed", false)) return true;
  }
  return false;
}

class BgpMd5LabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the lab builds network namespaces";
    if (!fs::exists("/usr/sbin/bird")) GTEST_SKIP() << "needs BIRD 2 (/usr/sbin/bird, Debian package bird2)";
    const auto md5 = gateway::probe_tcp_md5();
    std::cerr << "kernel TCP MD5 signatures (TCP_MD5SIG): " << (md5.present ? "yes" : "no") << " (" << md5.evidence
              << ")\n";
    if (!md5.present) GTEST_SKIP() << "this kernel cannot sign TCP segments: " << md5.evidence;
    dir_ = fs::path(::testing::TempDir()) / ("ergw-bgp-md5-" + std::to_string(getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (HasFailure() && lab_) {
      std::cerr << "---- tail of ergwd.log\n"
                << lab_->lab().exec(Node::appliance, {"tail", "-n", "40", (lab_->lab().state_dir() / "ergwd.log").string()}).out;
    }
    lab_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write(const std::string& name, const nlohmann::json& config) {
    return azure_lab::write_lab_config(dir_, name, config);
  }

  void start(const fs::path& config, const fs::path& azure_config) {
    AzureLabOptions options;
    options.config_file = config;
    options.azure_config_file = azure_config;
    options.ergwd_path = ERGWD_PATH;
    options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
    auto created = AzureLab::create(options);
    ASSERT_TRUE(created) << created.error();
    lab_ = std::move(created.value());
    ASSERT_NE(lab_->azure_bird(), nullptr);
  }

  nlohmann::json status() {
    auto s = lab_->status();
    EXPECT_TRUE(s) << s.error();
    return s ? s.value() : nlohmann::json::object();
  }

  // The kernel's TcpExt TCPMD5* drops in a namespace.
  std::optional<gateway::TcpMd5Drops> drops(Node node) {
    return gateway::parse_tcp_md5_drops(lab_->lab().exec(node, {"cat", "/proc/net/netstat"}).out);
  }

  // Everything ergw shows or keeps outside BIRD's file and the key files.
  std::string everything_ergw_says() {
    std::string all = status().dump() + cli::format_status(status());
    const auto dir = lab_->lab().state_dir();
    all += read_text(dir / "ergwd.log");
    for (const char* path : {"/v1/status", "/v1/config", "/v1/connections", "/v1/bgp/sessions",
                             "/v1/config/revisions"}) {
      all += lab_->lab().exec(Node::appliance, {"curl", "-sS", "--max-time", "5", "--unix-socket", lab_->api_socket(),
                                                std::string("http://localhost") + path}).out;
    }
    all += read_text(lab_->ergwd_state_dir() / "audit.log");
    // The stored revisions' documents (the secrets table apart is the store's own).
    all += lab_->lab().exec(Node::appliance, {"sqlite3", (lab_->ergwd_state_dir() / "store.db").string(),
                                              "SELECT document, comment, outcome FROM revisions"}).out;
    all += read_text(lab_->ergwd_config());  // the exported configuration file: a key-file reference
    return all;
  }

  fs::path dir_;
  std::unique_ptr<AzureLab> lab_;
};

TEST_F(BgpMd5LabTest, MatchingPasswordsEstablishAndThePasswordStaysSecret) {
  const auto config = write("ergw", lab_bgp(kPassword));
  start(config, config);
  auto up = lab_->wait_until_up(seconds(60));
  ASSERT_TRUE(up) << up.error();
  auto s = lab_->wait_for(seconds(120), established, "the BGP session with the password, and the VNet route");
  ASSERT_TRUE(s) << s.error();
  const auto st = status();
  std::cerr << cli::format_status(st);
  EXPECT_TRUE((*session(st)).value("tcp_md5", false)) << session(st)->dump();

  // BIRD's file holds it, 0600; so does the simulated side's (its own code).
  const auto bird_conf = lab_->lab().state_dir() / "appliance" / "bird" / "bird.conf";
  struct stat info {};
  ASSERT_EQ(::stat(bird_conf.c_str(), &info), 0) << bird_conf;
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_NE(read_text(bird_conf).find("password \"" + std::string(kPassword) + "\";"), std::string::npos);
  EXPECT_NE(read_text(lab_->lab().state_dir() / "azure-bird" / "bird.conf").find(kPassword), std::string::npos);
  // The exported configuration file names a 0600 key file instead.
  const auto key_file = lab_->ergwd_config().parent_path() / "keys" / "azure-bgp.bgp-password";
  ASSERT_EQ(::stat(key_file.c_str(), &info), 0) << key_file;
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  const auto shown = everything_ergw_says();
  EXPECT_GT(shown.size(), 1000u);
  EXPECT_EQ(shown.find(kPassword), std::string::npos) << "the BGP password appears in ergw's output, log or store";
  const auto d = drops(Node::appliance);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->wrong_signature, 0u);
  std::cerr << "appliance TcpExt: TCPMD5Failure " << d->wrong_signature << ", TCPMD5NotFound " << d->missing_signature
            << "\n";
}

TEST_F(BgpMd5LabTest, AWrongPasswordKeepsTheSessionDownAndTheStatusSaysWhy) {
  const auto config = write("ergw", lab_bgp(kPassword));
  const auto azure = write("azure", lab_bgp(kOtherPassword));
  start(config, azure);
  auto up = lab_->wait_until_up(seconds(60));
  ASSERT_TRUE(up) << up.error();
  // Both BIRDs keep trying; the kernels drop each other's signed SYNs.
  nlohmann::json last;
  auto said = lab_->wait_for(
      seconds(60),
      [&](const nlohmann::json& st) {
        last = st;
        const auto* s = session(st);
        return s != nullptr && s->value("last_error_hint", "").find("TCPMD5Failure") != std::string::npos;
      },
      "the status to name the wrong password");
  ASSERT_TRUE(said) << said.error();
  std::cerr << cli::format_status(last);
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < seconds(20)) {
    const auto st = status();
    ASSERT_NE(session(st), nullptr);
    ASSERT_NE(session(st)->value("state", ""), "Established") << "a wrong password must keep the session down";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  const auto appliance = drops(Node::appliance);
  const auto azure_side = drops(Node::azure_gw);
  ASSERT_TRUE(appliance && azure_side);
  std::cerr << "TcpExt TCPMD5Failure: appliance " << appliance->wrong_signature << ", simulated gateway "
            << azure_side->wrong_signature << "\n";
  EXPECT_GT(appliance->wrong_signature + azure_side->wrong_signature, 0u);
  EXPECT_EQ(everything_ergw_says().find(kPassword), std::string::npos);
  EXPECT_EQ(everything_ergw_says().find(kOtherPassword), std::string::npos);

  // The operator corrects ergw's side: the session comes up.
  std::ofstream(config) << lab_bgp(kOtherPassword).dump(2);
  ASSERT_TRUE(lab_->reload_ergwd());
  auto fixed = lab_->wait_for(seconds(120), established, "the session once the passwords match");
  ASSERT_TRUE(fixed) << fixed.error();
  EXPECT_EQ(everything_ergw_says().find(kOtherPassword), std::string::npos);
}

}  // namespace
}  // namespace ergw::azure_lab
