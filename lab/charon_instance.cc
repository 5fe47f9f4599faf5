#include "lab/charon_instance.h"

#include <fstream>
#include <iterator>
#include <thread>

#include "lab/try.h"

namespace ergw::lab {
namespace {

Status write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) return Error{"cannot write " + path.string()};
  return {};
}

// The last `lines` lines of a text, indented, for error messages.
std::string tail_of_text(const std::string& text, size_t lines) {
  std::vector<std::string> all;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    all.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "\n  " + all[i];
  return out;
}

std::string tail_of(const std::filesystem::path& path, size_t lines) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return tail_of_text(text, lines);
}

}  // namespace

const std::vector<std::string>& default_charon_plugins() {
  static const std::vector<std::string> plugins = {
      "random", "nonce", "openssl", "pem", "pkcs1", "x509", "revocation", "constraints", "pubkey", "kdf",
      "aes", "sha1", "sha2", "hmac", "gcm", "gmp", "kernel-libipsec", "kernel-netlink", "socket-default",
      "vici", "updown", "counters"};
  return plugins;
}

CharonInstance::CharonInstance(CharonOptions options, Supervisor& supervisor)
    : options_(std::move(options)), supervisor_(supervisor) {}

std::string CharonInstance::render_strongswan_conf() const {
  std::string plugins;
  auto all = default_charon_plugins();
  all.insert(all.end(), options_.extra_plugins.begin(), options_.extra_plugins.end());
  for (auto p : all) {
    if (p == "kernel-libipsec" && options_.backend == CharonBackend::kernel_esp) continue;
    // ergw-ipsec takes kernel-libipsec's place, before kernel-netlink (the first kernel-ipsec wins).
    if (p == "kernel-libipsec" && options_.backend == CharonBackend::ergw_ipsec) p = "ergw-ipsec";
    plugins += (plugins.empty() ? "" : " ") + p;
  }
  const std::string ergw_ipsec =
      options_.backend != CharonBackend::ergw_ipsec
          ? ""
          : "    ergw-ipsec {\n"
            "      socket = " + options_.fastpath_socket + "\n"
            "    }\n";
  std::string levels = "      default = " + std::to_string(options_.log_level) + "\n";
  for (const auto& [subsystem, level] : options_.subsystem_log_levels) {
    levels += "      " + subsystem + " = " + std::to_string(level) + "\n";
  }
  // The pid file (charon.pid) and any default socket land in this instance's
  // private /run (see Supervisor), so two charons never share them.
  return "# ergw lab: charon '" + options_.name + "' in namespace " + options_.netns + "\n" +
         "charon {\n"
         "  load_modular = no\n"
         "  load = " + plugins + "\n"
         "  # Routes toward ipsec0 are the caller's; see charon_instance.h for table 220.\n"
         "  install_routes = no\n"
         "  install_virtual_ip = no\n"
         "  routing_table = 220\n"
         "  routing_table_prio = 32800\n"
         "  filelog {\n"
         "    lab {\n"
         "      path = " + log_path().string() + "\n"
         "      time_format = %H:%M:%S\n"
         "      ike_name = yes\n"
         "      append = yes\n"
         "      flush_line = yes\n"
         + levels +
         "    }\n"
         "  }\n"
         "  plugins {\n"
         "    vici {\n"
         "      socket = " + vici_uri() + "\n"
         "    }\n" + ergw_ipsec +
         "  }\n"
         "}\n"
         "# Settings the controller writes (ergwd --charon-settings), read at start and\n"
         "# on vici reload-settings.\n"
         "include " + (options_.dir / "strongswan.d").string() + "/*.conf\n";
}

Status CharonInstance::write_files() const {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir / "strongswan.d", ec);
  if (ec) return Error{"cannot create " + options_.dir.string() + ": " + ec.message()};
  ERGW_LAB_TRY(write_file(conf_path(), render_strongswan_conf()));
  // swanctl only needs to parse credentials; loading just these keeps its
  // stderr free of "plugin failed to load" lines.
  return write_file(swanctl_conf_path(),
                    "swanctl {\n  load = pem pkcs1 x509 revocation constraints pubkey openssl random\n}\n");
}

Status CharonInstance::start() {
  ERGW_LAB_TRY(write_files());
  // A previous instance killed hard leaves its socket file behind; charon
  // would replace it, but wait_ready must not talk to the stale one.
  std::error_code ec;
  std::filesystem::remove(vici_socket(), ec);
  DaemonSpec spec;
  spec.name = daemon_name();
  spec.netns = options_.netns;
  spec.argv = {options_.charon_path};
  spec.extra_env = {"STRONGSWAN_CONF=" + conf_path().string()};
  spec.private_run = true;
  spec.run_dirs = {"/run/strongswan"};
  spec.keep_visible = options_.keep_visible;
  spec.staging_dir = options_.staging_dir;
  spec.log = output_path();
  if (options_.backend == CharonBackend::ergw_ipsec) {
    spec.overlays.push_back({options_.ergw_ipsec_plugin_dir, "/usr/lib/ipsec/plugins"});
  }
  ERGW_LAB_TRY(supervisor_.start(std::move(spec)));
  return wait_ready();
}

Status CharonInstance::wait_ready() const {
  const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(vici_socket())) {
      const host::CommandResult r = swanctl({"--stats"}, std::chrono::seconds(5));
      if (r.ok()) return {};
      last_error = r.describe({"swanctl", "--stats"});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error{"charon '" + options_.name + "' did not answer on " + vici_uri() + " within " +
               std::to_string(options_.ready_timeout.count()) + " ms" +
               (last_error.empty() ? "" : " (" + last_error + ")") + "; last output:" + tail_of(output_path(), 8)};
}

host::CommandResult CharonInstance::swanctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {"swanctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--uri", vici_uri()});
  return host::run_command(argv, timeout, {"STRONGSWAN_CONF=" + swanctl_conf_path().string()});
}

Status CharonInstance::load_all(const std::filesystem::path& swanctl_conf) const {
  const host::CommandResult r = swanctl({"--load-all", "--noprompt", "--file", swanctl_conf.string()});
  // swanctl prints "loaded connection 'x'" etc.; a failure names the section,
  // never the secret.
  if (!r.ok()) return Error{"charon '" + options_.name + "': swanctl --load-all failed: " + r.out + r.err};
  return {};
}

Status CharonInstance::initiate_child(const std::string& child, std::chrono::seconds timeout) const {
  const host::CommandResult r = swanctl({"--initiate", "--child", child, "--timeout", std::to_string(timeout.count())},
                                  timeout + std::chrono::seconds(5));
  if (!r.ok()) {
    return Error{"charon '" + options_.name + "': initiate " + child + " failed:" + tail_of_text(r.out, 6)};
  }
  return {};
}

Status CharonInstance::terminate_ike(const std::string& ike) const {
  const host::CommandResult r = swanctl({"--terminate", "--ike", ike, "--timeout", "10"}, std::chrono::seconds(15));
  if (!r.ok()) return Error{r.describe({"swanctl", "--terminate", "--ike", ike})};
  return {};
}

Result<std::string> CharonInstance::list_sas() const {
  const host::CommandResult r = swanctl({"--list-sas"}, std::chrono::seconds(10));
  if (!r.ok()) return Error{r.describe({"swanctl", "--list-sas"})};
  return r.out;
}

}  // namespace ergw::lab
