#include "lab/capabilities.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "lab/netns.h"

namespace ergw::lab {
namespace {

// The throwaway namespace; deleted on every path out of the probe.
class ScratchNetns {
 public:
  ScratchNetns() {
    static std::atomic<int> counter{0};
    name_ = "ergw-caps-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    status_ = create_netns(name_);
  }
  ~ScratchNetns() { (void)delete_netns(name_); }
  ScratchNetns(const ScratchNetns&) = delete;
  ScratchNetns& operator=(const ScratchNetns&) = delete;
  const std::string& name() const { return name_; }
  const Status& status() const { return status_; }

 private:
  std::string name_;
  Status status_;
};

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no message)" : line;
}

Capability probe(const std::string& ns, const std::vector<std::string>& args, const std::string& what) {
  std::vector<std::string> argv = {"ip", "-n", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = run_command(argv, std::chrono::seconds(10));
  if (r.ok()) return {true, what + ": accepted"};
  return {false, what + ": " + first_line(r.err.empty() ? r.out : r.err)};
}

// Test keys for a state that never carries a packet.
const std::string kKey32 = "0x" + std::string(64, '1');
const std::string kGcmKey = "0x" + std::string(72, '2');  // 32-byte key + 4-byte salt (RFC 4106 section 8.1)

}  // namespace

std::string KernelCapabilities::recommended_data_plane() const {
  if (esp.present && xfrm_interface.present) return "kernel";
  if (tun.present) return "libipsec";
  return "none";
}

std::string KernelCapabilities::to_string() const {
  auto line = [](const char* name, const Capability& c) {
    return std::string(name) + ": " + (c.present ? "yes" : "no") + " (" + c.reason + ")\n";
  };
  return "kernel " + kernel_release + "\n" + line("  ESP (xfrm state)", esp) + line("  ESP AES-GCM", esp_gcm) +
         line("  xfrm interfaces", xfrm_interface) + line("  TUN", tun) +
         "  data plane: " + recommended_data_plane() + "\n";
}

KernelCapabilities detect_kernel_capabilities() {
  KernelCapabilities caps;
  utsname uts{};
  if (uname(&uts) == 0) caps.kernel_release = uts.release;

  const int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun >= 0) {
    close(tun);
    caps.tun = {true, "/dev/net/tun opens"};
  } else {
    caps.tun = {false, std::string("/dev/net/tun: ") + std::strerror(errno)};
  }

  ScratchNetns scratch;
  if (!scratch.status().ok()) {
    const std::string why = "no scratch namespace: " + scratch.status().error();
    caps.esp = caps.esp_gcm = caps.xfrm_interface = {false, why};
    return caps;
  }
  const std::string& ns = scratch.name();
  caps.esp = probe(ns,
                   {"xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2", "proto", "esp", "spi", "0x100",
                    "reqid", "1", "mode", "tunnel", "enc", "cbc(aes)", kKey32, "auth-trunc", "hmac(sha256)", kKey32,
                    "128"},
                   "ip xfrm state add proto esp cbc(aes)/hmac(sha256)");
  caps.esp_gcm = probe(ns,
                       {"xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2", "proto", "esp", "spi",
                        "0x101", "reqid", "2", "mode", "tunnel", "aead", "rfc4106(gcm(aes))", kGcmKey, "128"},
                       "ip xfrm state add proto esp rfc4106(gcm(aes))");
  caps.xfrm_interface = probe(ns, {"link", "add", "ergwcap0", "type", "xfrm", "if_id", "1"},
                              "ip link add type xfrm if_id 1");
  return caps;
}

}  // namespace ergw::lab
