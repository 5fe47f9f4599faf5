// ergwd: the ergw controller daemon.
#include <CLI/CLI.hpp>

#include "common/build_info.h"
#include "gateway/ergwd/daemon.h"
#include "gateway/ergwd/log.h"

int main(int argc, char** argv) {
  CLI::App app{"ergwd: keeps charon's tunnels, routes and secrets equal to the ergw configuration"};
  app.set_version_flag("--version", "ergwd " + ergw::build_description());
  ergw::gateway::DaemonOptions options;
  bool debug = false;
  app.add_option("--config,-c", options.config_file,
                 "ergw configuration file: imported at the first start, then the export of the active revision "
                 "(edit it and send SIGHUP to make a new revision)");
  auto& management = options.management;
  app.add_option("--state-dir", management.state_dir, "the store (revisions, PSKs, API keys), audit log, certificate")
      ->capture_default_str();
  app.add_option("--api-listen", management.api_listen, "HTTPS management address ADDRESS:PORT (none if not given)");
  app.add_option("--socket", management.api_socket, "the API's local unix socket (root only; `ergw` uses it)")
      ->capture_default_str();
  app.add_option("--api-cert", management.api_certificate,
                 "the API's TLS certificate (PEM); default <state-dir>/api/tls.crt, generated if missing");
  app.add_option("--api-key", management.api_private_key, "its private key (PEM); default <state-dir>/api/tls.key");
  app.add_option("--api-client-ca", management.api_client_ca, "require client certificates signed by this CA");
  app.add_option("--keep-revisions", management.keep_revisions, "configuration revisions kept in the store")
      ->capture_default_str()
      ->check(CLI::Range(2, 100000));
  app.add_option("--control-socket", options.control_socket,
                 "a line-JSON control socket (status, reload) for the lab's tests; none if not given");
  app.add_option("--vici", options.vici_socket, "charon's vici socket")->capture_default_str();
  app.add_option("--charon-settings", options.charon_settings_file,
                 "write charon-wide settings (DPD retransmission) to this strongswan.conf fragment");
  app.add_option("--bird-dir", options.bgp.bird_dir,
                 "BIRD's config, control socket and pid file (BIRD runs only when a connection enables BGP)")
      ->capture_default_str();
  app.add_option("--bird", options.bgp.bird_binary, "the BIRD 2 binary")->capture_default_str();
  app.add_option("--bgp-table", options.bgp.kernel_table, "kernel routing table for routes learned over BGP")
      ->capture_default_str();
  app.add_flag("--strict-expressroute", options.bgp.strict_expressroute,
               "refuse (not only warn about) BGP exports Azure would route over ExpressRoute, unencrypted");
  app.add_option("--charon-restart-command", options.charon_restart_command,
                 "how ergwd has charon restarted when its plugins do not fit the data plane or the settings it "
                 "reads at start changed (run with /bin/sh -c; empty: never)")
      ->capture_default_str();
  app.add_option("--fastpath", options.fastpath.installation.binary,
                 "the ergw-fastpath binary (dataPlane fastpath; auto picks it when it and the plugin are installed)")
      ->capture_default_str();
  app.add_option("--ergw-ipsec-plugin", options.fastpath.installation.plugin,
                 "charon's ergw-ipsec plugin, as installed for charon")
      ->capture_default_str();
  std::string fastpath_dir = "/run/ergw";
  app.add_option("--fastpath-dir", fastpath_dir,
                 "the fast path's control socket (fastpath.sock), sequence file (fastpath.seq, keep on tmpfs) and "
                 "log (fastpath.log)")
      ->capture_default_str();
  app.add_option("--fastpath-arg", options.fastpath.extra_arguments,
                 "an extra ergw-fastpath argument, e.g. --fastpath-arg=--cpus --fastpath-arg=1 (repeatable)");
  app.add_option("--nft", options.nft,
                 "nftables' nft, for the TCP MSS clamp of the tunnels' forwarded TCP (table inet ergw_mss); empty: "
                 "no clamp (the image's own ruleset clamps)")
      ->capture_default_str();
  app.add_option("--firewall-table", options.firewall.table,
                 "fill this nftables table's sets ike_peers4/ike_peers6 with the connections' Azure tunnel addresses, "
                 "e.g. \"inet ergw\" (the appliance's baseline ruleset); none if not given");
  app.add_flag("--debug", debug, "log debug messages");
  CLI11_PARSE(app, argc, argv);
  options.fastpath.socket = fastpath_dir + "/fastpath.sock";
  options.fastpath.sequence_file = fastpath_dir + "/fastpath.seq";
  options.fastpath.log_file = fastpath_dir + "/fastpath.log";
  options.firewall.script_path = fastpath_dir + "/firewall-peers.nft";
  if (debug) ergw::gateway::set_log_level(ergw::gateway::LogLevel::debug);
  ergw::gateway::Daemon daemon(options);
  return daemon.run();
}
