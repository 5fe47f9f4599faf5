// The round trip: ergw's configuration -> the exported ARM template -> read
// back by ergw's policy reader (as `ergw policy check/compile` reads it) ->
// the same strongSwan configuration, proposals first. Across the golden
// policies of the tunnel matrix (Azure's default offers, DH14/PFS2048,
// GCM/ECP384, DH24/PFS24, policy-based, InitiatorOnly with DPD 30,
// active-active with APIPA BGP), each connection mode, with BGP and static.
#include <gtest/gtest.h>

#include <ostream>

#include "gateway/azure_export/arm_template.h"
#include "gateway/azure_export/az_script.h"
#include "gateway/policy/compiler.h"
#include "gateway/policy/connection_reader.h"
#include "gateway/policy/swanctl_renderer.h"
#include "tests/gateway/azure_export/export_test_support.h"

namespace ergw::azure_export {
namespace {

using testing::configuration_from_template;
using testing::golden;
using testing::golden_names;
using testing::load;
using testing::plan;

std::vector<std::string> proposals_of(const policy::CompiledConfiguration& compiled) {
  std::vector<std::string> out;
  for (const auto& ike : compiled.connections) {
    for (const auto& p : ike.proposals) out.push_back(ike.name + " ike " + p);
    for (const auto& child : ike.children) {
      for (const auto& p : child.esp_proposals) out.push_back(child.name + " esp " + p);
    }
  }
  return out;
}

std::string bgp_of(const policy::CompiledConfiguration& compiled) {
  std::string out;
  for (const auto& p : compiled.bgp_peers) {
    out += p.connection + " " + std::to_string(p.local_asn) + " " + std::to_string(p.peer_asn) + " " +
           p.local_address.to_string() + " " + p.peer_address.to_string() + (p.apipa ? " apipa" : "") + " [";
    for (const auto& prefix : p.export_prefixes) out += prefix.to_string() + " ";
    out += "]\n";
  }
  return out;
}

std::string routes_of(const policy::CompiledConfiguration& compiled) {
  std::string out;
  for (const auto& r : compiled.routes) out += r.prefix.to_string() + " " + r.connection + "\n";
  return out;
}

struct Variant {
  std::string golden;
  std::string mode;
  bool bgp;
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.golden << ", " << v.mode << ", " << (v.bgp ? "BGP" : "static");
}

std::string name_of(const ::testing::TestParamInfo<Variant>& info) {
  std::string name = info.param.golden + "_" + info.param.mode + (info.param.bgp ? "_bgp" : "_static");
  for (auto& c : name) c = (c == '-') ? '_' : c;
  return name;
}

std::vector<Variant> variants() {
  std::vector<Variant> out;
  for (const auto& name : golden_names()) {
    for (const char* mode : {"Default", "InitiatorOnly", "ResponderOnly"}) {
      for (bool bgp : {false, true}) out.push_back({name, mode, bgp});
    }
  }
  return out;
}

class RoundTrip : public ::testing::TestWithParam<Variant> {};

TEST_P(RoundTrip, TheExportedArmTemplateCompilesToTheSameProposals) {
  nlohmann::json original = golden(GetParam().golden);
  auto& properties = original["connections"][0]["azure"]["properties"];
  properties["connectionMode"] = GetParam().mode;
  properties["enableBgp"] = GetParam().bgp;
  auto before = load(original);
  if (!before.config) GTEST_SKIP() << "not a valid configuration: " << before.diagnostics.format();

  ExportOptions options;
  options.include_shared_keys = true;  // the key is part of what must survive
  options.vpn_gateway = "gw-hub";
  const auto side = plan(original, options);
  // Through text, as an engineer's file would go.
  const auto arm = nlohmann::json::parse(arm_template(side, "test").dump(2));
  const auto rebuilt = configuration_from_template(original, arm);
  auto after = load(rebuilt);
  ASSERT_TRUE(after.config) << after.diagnostics.format() << "\n" << rebuilt.dump(2);

  const auto expected = policy::compile(*before.config);
  const auto actual = policy::compile(*after.config);
  EXPECT_EQ(proposals_of(actual), proposals_of(expected));
  EXPECT_FALSE(proposals_of(actual).empty());
  EXPECT_EQ(policy::render_swanctl_conf(actual, policy::SecretDisplay::revealed),
            policy::render_swanctl_conf(expected, policy::SecretDisplay::revealed));
  EXPECT_EQ(routes_of(actual), routes_of(expected));
  EXPECT_EQ(bgp_of(actual), bgp_of(expected));
  EXPECT_EQ(actual.charon.retransmit_timeout, expected.charon.retransmit_timeout);
}

INSTANTIATE_TEST_SUITE_P(Matrix, RoundTrip, ::testing::ValuesIn(variants()), name_of);

TEST(RoundTrip, TheMatrixCoversTheTunnelMatrixPolicies) {
  const auto names = golden_names();
  for (const char* expected :
       {"azure-defaults", "aes256-sha256-dh14-pfs2048", "gcmaes256-ecp384", "aes256-sha384-dh24-pfs24", "policy-based",
        "initiator-only-dpd30", "active-active-bgp-apipa"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

// The az script's `ipsec-policy add` flags, pasted into ergw's ipsecPolicy
// field (which reads that command's flags), give back the same policy.
TEST(RoundTrip, TheAzIpsecPolicyCommandReadsBackAsTheSamePolicy) {
  for (const auto& name : golden_names()) {
    SCOPED_TRACE(name);
    const auto original = golden(name);
    auto loaded = load(original);
    ASSERT_TRUE(loaded.config);
    const auto expected = loaded.config->connections[0].azure.custom_policy();
    const auto script = az_script(plan(original));
    const AzCommand* add = nullptr;
    for (const auto& c : script.commands) {
      if (c.argv.size() > 4 && c.argv[3][0].text == "ipsec-policy") add = &c;
    }
    if (!expected) {
      EXPECT_EQ(add, nullptr) << "no custom policy, no ipsec-policy add";
      continue;
    }
    ASSERT_NE(add, nullptr);
    // The policy flags and their values, as an engineer would paste them:
    // everything after the flags that name the connection.
    std::string flags;
    bool take = false;
    for (const auto& word : add->argv) {
      const auto& text = word[0].text;
      if (text == "--connection-name" || text == "--resource-group") {
        take = false;
        continue;
      }
      if (text.rfind("--", 0) == 0) take = true;
      if (take && !word[0].variable) flags += text + " ";
    }
    Diagnostics d;
    auto policy = policy::read_ipsec_policy_args(flags, "ipsecPolicy", d);
    ASSERT_TRUE(policy && policy->complete()) << flags << "\n" << d.format();
    EXPECT_TRUE(*policy->complete() == *expected) << flags;
  }
}

}  // namespace
}  // namespace ergw::azure_export
