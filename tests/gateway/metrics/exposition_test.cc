#include "gateway/metrics/exposition.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

namespace ergw::metrics {
namespace {

Observation sample_observation() {
  Observation o;
  o.taken_at = 1700000000;
  o.daemons.charon_up = true;
  o.daemons.bird_up = true;
  o.daemons.data_plane = "libipsec";
  ConnectionObservation c;
  c.name = "azure-hub";
  c.remote = "172.16.0.2";
  c.mode = "Default";
  c.selectors = "route_based";
  c.up = true;
  c.ike_sas = 1;
  c.child_sas = 1;
  c.established_at = 1699999000;
  c.ike_rekey_at = 1700020000;
  c.child_rekey_at = 1700010000;
  c.traffic.rx_bytes = 12345;
  c.traffic.rx_packets = 100;
  c.traffic.tx_bytes = 67890;
  c.traffic.tx_packets = 200;
  c.traffic.drops[DropReason::replay] = 3;
  c.ike_failures["authentication failed"] = 2;
  c.ike_failures["no proposal chosen"] = 0;
  c.child_rekeys = 4;
  c.last_error = "authentication failed";
  c.last_error_at = 1699990000;
  c.pfs_probe = "mismatch";
  o.connections.push_back(c);
  BgpPeerObservation p;
  p.peer = "azure_hub";
  p.connection = "azure-hub";
  p.state = "Established";
  p.routes_received = 3;
  p.routes_accepted = 3;
  p.routes_advertised = 1;
  p.uptime_seconds = 120;
  o.bgp_peers.push_back(p);
  return o;
}

std::string render_sample() {
  static const Observation o = sample_observation();
  static ConfigObservation config{7, 8, 1700000300, 9, 1, 2};
  static auto histogram = make_reconcile_histogram();
  histogram->Observe(0.02);
  MetricsInput in{&o, &config, histogram.get(), {"0.1.0", "abc123"}};
  return render_metrics(in);
}

TEST(ExpositionTest, HasTheNamesDocumented) {
  const auto text = render_sample();
  for (const char* line : {
           "ergw_connection_up{connection=\"azure-hub\"} 1",
           "ergw_connection_info{connection=\"azure-hub\",remote=\"172.16.0.2\",mode=\"Default\",selectors=\"route_"
           "based\",data_plane=\"libipsec\"} 1",
           "ergw_connection_receive_bytes_total{connection=\"azure-hub\"} 12345",
           "ergw_connection_transmit_bytes_total{connection=\"azure-hub\"} 67890",
           "ergw_connection_drops_total{connection=\"azure-hub\",reason=\"replay\"} 3",
           "ergw_connection_ike_failures_total{connection=\"azure-hub\",reason=\"authentication_failed\"} 2",
           "ergw_connection_ike_failures_total{connection=\"azure-hub\",reason=\"no_proposal_chosen\"} 0",
           "ergw_connection_rekeys_total{connection=\"azure-hub\",sa=\"child\"} 4",
           "ergw_connection_next_rekey_timestamp_seconds{connection=\"azure-hub\",sa=\"ike\"} 1700020000",
           "ergw_connection_last_failure_timestamp_seconds{connection=\"azure-hub\",reason=\"authentication_"
           "failed\"} 1699990000",
           "ergw_connection_pfs_probe_state{connection=\"azure-hub\",state=\"mismatch\"} 1",
           "ergw_connection_pfs_probe_state{connection=\"azure-hub\",state=\"verified\"} 0",
           "ergw_bgp_session_up{peer=\"azure_hub\",connection=\"azure-hub\"} 1",
           "ergw_bgp_session_state{peer=\"azure_hub\",connection=\"azure-hub\",state=\"Established\"} 1",
           "ergw_bgp_routes_advertised{peer=\"azure_hub\",connection=\"azure-hub\"} 1",
           "ergw_build_info{version=\"0.1.0\",commit=\"abc123\"} 1",
           "ergw_daemon_up{daemon=\"charon\"} 1",
           "ergw_config_revision 7",
           "ergw_config_confirm_deadline_timestamp_seconds 1700000300",
           "ergw_config_apply_failures_total 1",
           "# TYPE ergw_reconcile_duration_seconds histogram",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n---\n" << text;
  }
}

TEST(ExpositionTest, CountersEndInTotalAndNoLabelLooksLikeAnSaId) {
  const auto text = render_sample();
  std::regex type_line("# TYPE (\\S+) (\\S+)");
  for (std::sregex_iterator it(text.begin(), text.end(), type_line), end; it != end; ++it) {
    const std::string name = (*it)[1];
    const std::string type = (*it)[2];
    EXPECT_EQ(type == "counter", name.ends_with("_total")) << name << " is a " << type;
  }
  for (const char* forbidden : {"spi", "uniqueid", "unique_id", "reqid"}) {
    EXPECT_EQ(text.find(forbidden), std::string::npos) << forbidden;
  }
}

TEST(ExpositionTest, AnEmptyObservationStillRenders) {
  MetricsInput in;
  in.build = {"0.1.0", "x"};
  const auto text = render_metrics(in);
  EXPECT_NE(text.find("ergw_build_info"), std::string::npos);
  EXPECT_NE(text.find("ergw_daemon_up{daemon=\"charon\"} 0"), std::string::npos);
}

// Prometheus's own linter, when installed (Debian package prometheus).
TEST(ExpositionTest, PromtoolAcceptsIt) {
  if (::access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed";
  const auto path = std::filesystem::temp_directory_path() / ("ergw-metrics-" + std::to_string(::getpid()));
  std::ofstream(path) << render_sample();
  const std::string command = "/usr/bin/promtool check metrics < " + path.string() + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  std::filesystem::remove(path);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "") << output;
}

}  // namespace
}  // namespace ergw::metrics
