#include "host/kernel_probe.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "host/process.h"

namespace ergw::host {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(10);

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no message)" : line;
}

// Runs `ip ARGS...` in a network namespace of its own; `unshare_options` are
// "-n", or the user-namespace form where only a user namespace can give one.
Capability try_in_scratch_namespace(const std::vector<std::string>& unshare_options,
                                    const std::vector<std::string>& ip_args, const std::string& what) {
  std::vector<std::string> argv = {"unshare"};
  argv.insert(argv.end(), unshare_options.begin(), unshare_options.end());
  argv.push_back("ip");
  argv.insert(argv.end(), ip_args.begin(), ip_args.end());
  const CommandResult r = run_command(argv, kProbeTimeout);
  if (r.ok()) return {true, what + ": accepted"};
  if (r.timed_out) return {false, what + ": no answer within 10 s"};
  return {false, what + ": " + first_line(r.err.empty() ? r.out : r.err)};
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Keys of states that never carry a packet.
const std::string kKey16 = "0x" + std::string(32, '1');
const std::string kKey32 = "0x" + std::string(64, '1');
const std::string kGcmKey = "0x" + std::string(72, '2');  // 32-byte key + 4-byte salt (RFC 4106 section 8.1)

std::string line(const char* name, const Capability& c) {
  return std::string(name) + ": " + (c.present ? "yes" : "no") + " (" + c.evidence + ")";
}

}  // namespace

std::string KernelOffer::summary() const {
  auto part = [](const char* name, const Capability& c) {
    return std::string(name) + " " + (c.present ? "yes" : "no (" + c.evidence + ")");
  };
  return "kernel " + release + ": " + part("ESP", esp) + "; " + part("ESP AES-GCM", esp_gcm) + "; " +
         part("xfrm interfaces", xfrm_interfaces) + "; " + part("TUN", tun);
}

std::string KernelOffer::to_string() const {
  return "kernel " + release + "\n  " + line("network namespaces", network_namespaces) + "\n  " +
         line("ESP (xfrm state)", esp) + "\n  " + line("ESP AES-GCM", esp_gcm) + "\n  " +
         line("xfrm interfaces", xfrm_interfaces) + "\n  " + line("TUN", tun) + "\n  kernel ESP data plane: " +
         (carries_kernel_esp() ? "possible" : "not possible (needs ESP and xfrm interfaces)") +
         "\n  libipsec data plane: " + (carries_libipsec() ? "possible" : "not possible (needs TUN)") + "\n";
}

KernelOffer probe_kernel() {
  KernelOffer offer;
  utsname uts{};
  if (uname(&uts) == 0) offer.release = uts.release;

  const int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun >= 0) {
    close(tun);
    offer.tun = {true, "/dev/net/tun opens"};
  } else {
    offer.tun = {false, std::string("/dev/net/tun: ") + std::strerror(errno)};
  }

  // A daemon without CAP_SYS_ADMIN (ergwd under its hardened systemd unit)
  // cannot create a network namespace directly; inside a user namespace of
  // its own it can, and holds CAP_NET_ADMIN over it for the tries. No uid map
  // is written (`unshare -r` would map root, which since Linux 5.12 needs
  // CAP_SETFCAP, outside the unit's bounding set): `ip` keeps the capabilities
  // it has in that user namespace as ambient ones (--keep-caps).
  std::vector<std::string> options = {"-n"};
  CommandResult ns = run_command({"unshare", "-n", "true"}, kProbeTimeout);
  if (!ns.ok()) {
    const std::string plain = first_line(ns.err.empty() ? ns.out : ns.err);
    options = {"--user", "--net", "--keep-caps"};
    std::vector<std::string> argv = {"unshare"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("true");
    ns = run_command(argv, kProbeTimeout);
    if (!ns.ok()) {
      offer.network_namespaces = {false, "unshare -n: " + plain + "; unshare " + joined(options) + ": " +
                                             first_line(ns.err.empty() ? ns.out : ns.err)};
      const std::string why =
          "not tried: no network namespace of its own (" + offer.network_namespaces.evidence + ")";
      offer.esp = offer.esp_gcm = offer.xfrm_interfaces = {false, why};
      return offer;
    }
  }
  offer.network_namespaces = {true, "unshare " + joined(options) + " works"};
  offer.esp = try_in_scratch_namespace(options, {"xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2", "proto", "esp",
                                        "spi", "0x100", "reqid", "1", "mode", "tunnel", "enc", "cbc(aes)", kKey16,
                                        "auth-trunc", "hmac(sha256)", kKey32, "128"},
                                       "ip xfrm state add proto esp cbc(aes)/hmac(sha256)");
  offer.esp_gcm = try_in_scratch_namespace(options, {"xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2", "proto",
                                            "esp", "spi", "0x101", "reqid", "2", "mode", "tunnel", "aead",
                                            "rfc4106(gcm(aes))", kGcmKey, "128"},
                                           "ip xfrm state add proto esp rfc4106(gcm(aes))");
  offer.xfrm_interfaces = try_in_scratch_namespace(options, {"link", "add", "ergwprobe0", "type", "xfrm", "if_id", "1"},
                                                   "ip link add type xfrm if_id 1");
  return offer;
}

}  // namespace ergw::host
