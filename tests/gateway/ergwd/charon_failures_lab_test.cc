// Failure attribution and classification against two real charon 5.9.8
// daemons (label "lab", root): charon "a" plays ergw's appliance (its events
// feed a HealthTracker, as in ergwd), charon "b" plays an Azure gateway
// configured by hand to disagree in one thing per test: the PSK, an identity,
// the IKE proposal, the traffic selectors, its own address. Each test checks
// the code, the connection the failure is attributed to and what the status
// would say; the IKE rekey tests check that the routine DELETE of a replaced
// IKE SA is no failure while a real delete is.
//
// ERGW_CAPTURE_CHARON_LOG=<file> appends every log line charon "a" delivered
// (scenario, IKE SA name, message) to <file>: the source of the table in
// failure_reason_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "gateway/ergwd/health.h"
#include "tests/vici/lab_charon.h"
#include "tests/vici/run_until.h"
#include "vici/client.h"
#include "vici/commands.h"

namespace ergw::gateway {
namespace {

using namespace std::chrono_literals;
namespace lab = vici::lab;

// Not real keys; they only have to match, or not, between the lab charons.
constexpr const char* kPsk = "ergw-lab-only-psk-0123456789";
constexpr const char* kOtherPsk = "ergw-lab-only-other-psk-9876543210";

struct Side {
  std::string name;
  std::string local = "192.0.2.1";
  std::string remote = "192.0.2.2";
  std::string local_id = {};   // default: local
  std::string remote_id = {};  // default: remote
  std::string proposals = "aes256gcm16-prfsha384-ecp384";
  std::string esp_proposals = "aes256gcm16";
  std::string local_ts = "10.10.1.0/24";
  std::string remote_ts = "10.10.2.0/24";
  std::string psk = kPsk;

  std::string my_id() const { return local_id.empty() ? local : local_id; }
  std::string peer_id() const { return remote_id.empty() ? remote : remote_id; }
};

vici::Section conn_of(const Side& s) {
  vici::Section conn;
  conn.set("version", "2");
  conn.set_list("local_addrs", {s.local}).set_list("remote_addrs", {s.remote});
  conn.set_list("proposals", {s.proposals});
  conn.set("keyingtries", "1");
  conn.section("local-1").set("auth", "psk").set("id", s.my_id());
  conn.section("remote-1").set("auth", "psk").set("id", s.peer_id());
  vici::Section& child = conn.section("children").section("net");
  child.set_list("local_ts", {s.local_ts}).set_list("remote_ts", {s.remote_ts});
  child.set_list("esp_proposals", {s.esp_proposals});
  return conn;
}

// The appliance's side as ergw configures it, and the "Azure" side.
Side ergw_side() { return Side{.name = "hub"}; }
Side azure_side() {
  return Side{.name = "azure", .local = "192.0.2.2", .remote = "192.0.2.1", .local_ts = "10.10.2.0/24",
              .remote_ts = "10.10.1.0/24"};
}

class CharonFailuresLab : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = lab::missing_prerequisite();
    if (!missing.empty()) GTEST_SKIP() << missing;
    ASSERT_FALSE(dir_.path().empty());
    netns_ = std::make_unique<lab::NamespacePair>("f");
    if (!netns_->ok()) GTEST_SKIP() << "cannot build namespaces: " << netns_->error();
    // A peer that does not answer is given up on after ~3 s instead of 165 s.
    charon_a_ = std::make_unique<lab::Charon>(netns_->a(), dir_.path(), "a",
                                              "  retransmit_timeout = 1.0\n  retransmit_base = 1.0\n"
                                              "  retransmit_tries = 2\n");
    charon_b_ = std::make_unique<lab::Charon>(netns_->b(), dir_.path(), "b");
    charon_a_->start();
    charon_b_->start();
    a_ = client(*charon_a_, {"ike-updown", "child-updown", "ike-rekey", "child-rekey", "log"});
    b_ = client(*charon_b_, {});
    a_->on_event([this](const std::string& name, const vici::Message& m) {
      health_.on_event(name, m);
      if (name == "log") {
        const std::string line(m.string_or("msg", ""));
        lines_.push_back(line);
        capture(std::string(m.string_or("ikesa-name", "")), line);
      }
    });
    a_->start();
    b_->start();
    ASSERT_TRUE(run_until([&] { return a_->connected() && b_->connected(); })) << "no vici connection";
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    if (HasFailure() && charon_a_) {
      std::cout << "--- charon a (ergw) ---\n" << charon_a_->log_tail(60) << "--- charon b (azure) ---\n"
                << charon_b_->log_tail(30);
    }
    charon_a_.reset();
    charon_b_.reset();
    netns_.reset();
  }

  std::unique_ptr<vici::Client> client(const lab::Charon& charon, std::vector<std::string> events) {
    vici::ClientOptions options;
    options.socket_path = charon.socket_path();
    options.events = std::move(events);
    options.reconnect_initial_delay = 50ms;
    options.command_timeout = 20s;
    return std::make_unique<vici::Client>(io_.get_executor(), options);
  }

  template <typename Pred>
  bool run_until(Pred done, std::chrono::seconds limit = 30s) {
    return vici::testing::run_until(io_, done, limit, 10ms);
  }

  void settle(std::chrono::milliseconds time) {
    const auto until = std::chrono::steady_clock::now() + time;
    run_until([&] { return std::chrono::steady_clock::now() >= until; });
  }

  template <typename R, typename Start>
  R await(Start start) {
    std::optional<R> slot;
    start([&](R result) { slot.emplace(std::move(result)); });
    if (!run_until([&] { return slot.has_value(); })) return Error{"no reply", ErrorCode::timed_out};
    return std::move(*slot);
  }

  Status load(vici::Client& c, const Side& s) {
    vici::SharedKeyInfo key{"ike-" + s.name, "IKE", {s.my_id(), s.peer_id()}};
    Status shared = await<Status>([&](auto done) { vici::load_shared(c, key, s.psk, done); });
    if (!shared) return shared;
    return await<Status>([&](auto done) { vici::load_conn(c, s.name, conn_of(s), done); });
  }

  // Loads both sides; the health tracker knows the appliance's connection.
  void load_both(const Side& ergw, const Side& azure) {
    health_.set_connections({{ergw.name, ergw.remote, {"net"}, ergw.my_id(), ergw.peer_id()}});
    ASSERT_TRUE(load(*a_, ergw));
    ASSERT_TRUE(load(*b_, azure));
  }

  void dial(vici::Client& c, const std::string& name) {
    vici::InitiateRequest request;
    request.ike = name;
    request.child = "net";
    request.timeout_ms = -1;
    auto r = await<Result<std::vector<vici::ControlLogLine>>>([&](auto done) { vici::initiate(c, request, done); });
    ASSERT_TRUE(r) << r.error();
  }

  // Waits until the connection's last error is `failure`.
  const FailureRecord* wait_for_failure(const std::string& connection, TunnelFailure failure) {
    const FailureRecord* found = nullptr;
    run_until(
        [&] {
          const auto* h = health_.find(connection);
          found = h && h->last_error && h->last_error->failure == failure ? &*h->last_error : nullptr;
          return found != nullptr;
        },
        25s);
    if (!found) {
      const auto* h = health_.find(connection);
      ADD_FAILURE() << "no " << failure_name(failure) << " for " << connection << "; last error: "
                    << (h && h->last_error ? std::string(failure_name(h->last_error->failure)) + " (" +
                                                 h->last_error->detail + ")"
                                           : std::string("none"));
    }
    return found;
  }

  // Both sides have the tunnel: a's events said so, and b lists it (b learns
  // it a moment after a; a rekey asked of b earlier finds nothing to rekey).
  bool wait_until_up() {
    if (!run_until([&] { return health_.find("hub") && health_.find("hub")->last_change == "CHILD up"; })) return false;
    return run_until([&] {
      auto sas = await<Result<std::vector<vici::IkeSaInfo>>>([&](auto done) { vici::list_sas(*b_, {}, done); });
      if (!sas || sas->empty()) return false;
      const auto& ike = sas->front();
      return vici::is_established(ike.state) && !ike.child_sas.empty() &&
             vici::is_installed(ike.child_sas.front().state);
    });
  }

  bool saw_line(std::string_view part) const {
    for (const auto& l : lines_) {
      if (l.find(part) != std::string::npos) return true;
    }
    return false;
  }

  void capture(const std::string& ike_name, const std::string& line) {
    const char* path = std::getenv("ERGW_CAPTURE_CHARON_LOG");
    if (path == nullptr) return;
    std::ofstream(path, std::ios::app) << ::testing::UnitTest::GetInstance()->current_test_info()->name() << "\t"
                                       << ike_name << "\t" << line << "\n";
  }

  boost::asio::io_context io_;
  lab::TempDir dir_;
  std::unique_ptr<lab::NamespacePair> netns_;
  std::unique_ptr<lab::Charon> charon_a_;
  std::unique_ptr<lab::Charon> charon_b_;
  std::unique_ptr<vici::Client> a_;
  std::unique_ptr<vici::Client> b_;
  std::unique_ptr<Clock> clock_ = make_steady_clock(io_.get_executor());
  HealthTracker health_{*clock_};
  std::vector<std::string> lines_;
};

TEST_F(CharonFailuresLab, WrongPskWhenErgwDialsIsTheKeyOrOurIdentity) {
  auto azure = azure_side();
  azure.psk = kOtherPsk;
  load_both(ergw_side(), azure);
  dial(*a_, "hub");
  const auto* f = wait_for_failure("hub", TunnelFailure::peer_refused_authentication);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(failure_reason(f->failure), "authentication failed");
  EXPECT_NE(f->observed.find("ergw authenticated as '192.0.2.1'"), std::string::npos) << f->observed;
}

TEST_F(CharonFailuresLab, WrongPskWhenAzureDialsIsTheKey) {
  auto azure = azure_side();
  azure.psk = kOtherPsk;
  load_both(ergw_side(), azure);
  dial(*b_, "azure");
  const auto* f = wait_for_failure("hub", TunnelFailure::psk_mismatch);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(failure_cause(f->failure), "pre-shared key");
  EXPECT_NE(f->observed.find("matched, the key did not"), std::string::npos) << f->observed;
}

// ergw, as responder, refuses Azure's IKE_SA_INIT: charon logs it on an IKE
// SA without a connection ("(unnamed)"); the peer's address attributes it.
TEST_F(CharonFailuresLab, ProposalRefusedAsResponderIsAttributedByAddressAndSaysWhatWasOffered) {
  auto azure = azure_side();
  azure.proposals = "aes256-sha1-modp2048";  // ergw: aes256gcm16-prfsha384-ecp384
  load_both(ergw_side(), azure);
  dial(*b_, "azure");
  const auto* f = wait_for_failure("hub", TunnelFailure::no_acceptable_proposal);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->observed.find("Azure dialled, ergw refused it as responder"), std::string::npos) << f->observed;
  EXPECT_NE(f->observed.find("offered IKE:AES_CBC_256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048"), std::string::npos)
      << f->observed;
  EXPECT_NE(f->observed.find("ergw accepts IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384"), std::string::npos)
      << f->observed;
  EXPECT_EQ(health_.find("(unnamed)"), nullptr);
  EXPECT_TRUE(health_.unattributed().empty());
}

TEST_F(CharonFailuresLab, ProposalRefusedByAzureWhenErgwDials) {
  auto azure = azure_side();
  azure.proposals = "aes256-sha1-modp2048";
  load_both(ergw_side(), azure);
  dial(*a_, "hub");
  ASSERT_NE(wait_for_failure("hub", TunnelFailure::peer_refused_proposal), nullptr);
}

// Azure identifies itself otherwise than ergw expects: as responder charon
// finds no connection for it ("no matching peer config found").
TEST_F(CharonFailuresLab, UnknownAzureIdentityAsResponderIsTheIdentity) {
  auto azure = azure_side();
  azure.local_id = "azure-gw.example";
  load_both(ergw_side(), azure);
  dial(*b_, "azure");
  const auto* f = wait_for_failure("hub", TunnelFailure::no_connection_for_identities);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(failure_cause(f->failure), "identity");
  EXPECT_NE(f->observed.find("identified itself as 'azure-gw.example'"), std::string::npos) << f->observed;
  EXPECT_NE(f->observed.find("expects '192.0.2.2'"), std::string::npos) << f->observed;
}

// Azure asks for ergw under another identity than ergw's (IDr).
TEST_F(CharonFailuresLab, AzureAskingForAnotherErgwIdentityIsTheIdentity) {
  auto azure = azure_side();
  azure.remote_id = "onprem-gw.example";
  load_both(ergw_side(), azure);
  dial(*b_, "azure");
  const auto* f = wait_for_failure("hub", TunnelFailure::no_connection_for_identities);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->observed.find("it asked for ergw as 'onprem-gw.example', ergw is '192.0.2.1'"), std::string::npos)
      << f->observed;
}

// ergw proposes traffic selectors Azure does not accept.
TEST_F(CharonFailuresLab, TrafficSelectorsRefusedByAzureWhenErgwDials) {
  auto azure = azure_side();
  azure.remote_ts = "10.10.8.0/24";  // Azure expects another on-prem prefix
  load_both(ergw_side(), azure);
  dial(*a_, "hub");
  ASSERT_NE(wait_for_failure("hub", TunnelFailure::traffic_selectors_unacceptable), nullptr);
}

// When ergw dials, Azure does not say why it refuses: ergw asked for an
// identity Azure does not have. The status says so and names the identities
// ergw sent.
TEST_F(CharonFailuresLab, AzureWithAnotherIdentityRefusesErgwsAuthentication) {
  auto azure = azure_side();
  azure.local_id = "azure-gw.example";
  load_both(ergw_side(), azure);
  dial(*a_, "hub");
  const auto* f = wait_for_failure("hub", TunnelFailure::peer_refused_authentication);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(failure_cause(f->failure).find("identity"), std::string_view::npos);
  EXPECT_NE(f->observed.find("asked for '192.0.2.2' as the peer's identity"), std::string::npos) << f->observed;
}

TEST_F(CharonFailuresLab, TrafficSelectorsRefused) {
  auto azure = azure_side();
  azure.local_ts = "10.10.9.0/24";  // a prefix ergw does not expect
  load_both(ergw_side(), azure);
  dial(*b_, "azure");
  ASSERT_NE(wait_for_failure("hub", TunnelFailure::traffic_selectors_unacceptable), nullptr);
}

// An IKE_SA_INIT from an address no connection has stays unattributed.
TEST_F(CharonFailuresLab, IkeFromAnUnknownAddressIsKeptApart) {
  ASSERT_EQ(lab::run({"ip", "-n", netns_->b(), "addr", "add", "192.0.2.3/32", "dev", "lo"}), 0);
  auto azure = azure_side();
  azure.local = "192.0.2.3";
  load_both(ergw_side(), azure);
  dial(*b_, "azure");
  ASSERT_TRUE(run_until([&] { return !health_.unattributed().empty(); }, 25s));
  const auto& u = health_.unattributed().front();
  EXPECT_EQ(u.record.failure, TunnelFailure::no_matching_connection);
  EXPECT_EQ(u.peer_address, "192.0.2.3");
  const auto* h = health_.find("hub");
  EXPECT_TRUE(h == nullptr || !h->last_error);
}

// ergw requires PFS, Azure rekeys without it (Azure's default as initiator):
// the tunnel comes up (the first CHILD SA is keyed from the IKE SA) and fails
// at Azure's first CHILD rekey.
TEST_F(CharonFailuresLab, PfsOnErgwsSideOnlyFailsAtAzuresChildRekey) {
  auto ergw = ergw_side();
  ergw.esp_proposals = "aes256gcm16-ecp384";
  load_both(ergw, azure_side());
  dial(*b_, "azure");
  ASSERT_TRUE(wait_until_up());
  vici::RekeyRequest rekey;
  rekey.child = "net";
  auto matches = await<Result<uint64_t>>([&](auto done) { vici::rekey(*b_, rekey, done); });
  ASSERT_TRUE(matches) << matches.error();
  const auto* f = wait_for_failure("hub", TunnelFailure::no_acceptable_proposal);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->observed.find("offered ESP:AES_GCM_16_256/NO_EXT_SEQ"), std::string::npos) << f->observed;
  EXPECT_NE(f->observed.find("ergw accepts ESP:AES_GCM_16_256/ECP_384"), std::string::npos) << f->observed;
}

TEST_F(CharonFailuresLab, AzureNotAnsweringIsPeerUnreachable) {
  load_both(ergw_side(), azure_side());
  charon_b_->stop();
  dial(*a_, "hub");
  ASSERT_NE(wait_for_failure("hub", TunnelFailure::peer_unreachable), nullptr);
}

// Azure rekeys the IKE SA and deletes the old one: routine, no failure. Then
// Azure closes the IKE SA: that is one.
TEST_F(CharonFailuresLab, DeleteAfterAnAzureIkeRekeyIsNoFailureButAClose) {
  load_both(ergw_side(), azure_side());
  dial(*b_, "azure");
  ASSERT_TRUE(wait_until_up());
  vici::RekeyRequest rekey;
  rekey.ike = "azure";
  auto matches = await<Result<uint64_t>>([&](auto done) { vici::rekey(*b_, rekey, done); });
  ASSERT_TRUE(matches) << matches.error();
  ASSERT_TRUE(run_until([&] { return saw_line("received DELETE for IKE_SA hub"); }, 20s)) << "no DELETE seen";
  settle(500ms);
  const auto* h = health_.find("hub");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->ike_rekeys, 1u);
  EXPECT_FALSE(h->last_error) << failure_name(h->last_error->failure) << ": " << h->last_error->detail;
  EXPECT_TRUE(h->failures.empty());

  vici::TerminateRequest close;
  close.ike = "azure";
  close.timeout_ms = 10000;
  auto closed = await<Result<vici::TerminateResult>>([&](auto done) { vici::terminate(*b_, close, done); });
  ASSERT_TRUE(closed) << closed.error();
  ASSERT_NE(wait_for_failure("hub", TunnelFailure::deleted_by_peer), nullptr);
}

// The same when ergw rekeys: ergw deletes the old SA itself.
TEST_F(CharonFailuresLab, ErgwIkeRekeyIsNoFailure) {
  load_both(ergw_side(), azure_side());
  dial(*a_, "hub");
  ASSERT_TRUE(wait_until_up());
  vici::RekeyRequest rekey;
  rekey.ike = "hub";
  auto matches = await<Result<uint64_t>>([&](auto done) { vici::rekey(*a_, rekey, done); });
  ASSERT_TRUE(matches) << matches.error();
  ASSERT_TRUE(run_until([&] { return health_.find("hub")->ike_rekeys == 1; }, 20s));
  settle(1s);
  EXPECT_FALSE(health_.find("hub")->last_error);
}

}  // namespace
}  // namespace ergw::gateway
