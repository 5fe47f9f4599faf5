// ergwd: the ergw controller daemon.
#include <CLI/CLI.hpp>

#include "gateway/ergwd/daemon.h"
#include "gateway/ergwd/log.h"

int main(int argc, char** argv) {
  CLI::App app{"ergwd: keeps charon's tunnels, routes and secrets equal to the ergw configuration"};
  ergw::gateway::DaemonOptions options;
  bool debug = false;
  app.add_option("--config,-c", options.config_file, "ergw configuration file")->required();
  app.add_option("--socket", options.control_socket, "control socket for `ergw status`")
      ->capture_default_str();
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
  app.add_flag("--debug", debug, "log debug messages");
  CLI11_PARSE(app, argc, argv);
  options.fastpath.socket = fastpath_dir + "/fastpath.sock";
  options.fastpath.sequence_file = fastpath_dir + "/fastpath.seq";
  options.fastpath.log_file = fastpath_dir + "/fastpath.log";
  if (debug) ergw::gateway::set_log_level(ergw::gateway::LogLevel::debug);
  ergw::gateway::Daemon daemon(options);
  return daemon.run();
}
