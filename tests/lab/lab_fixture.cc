#include "tests/lab/lab_fixture.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "lab/netns.h"

namespace ergw::lab::testing {

std::optional<std::string> lab_unavailable(bool need_charon) {
  if (geteuid() != 0) return "lab tests need root (network namespaces)";
  if (!host::run_command({"ip", "netns", "list"}).ok()) return "`ip netns` does not work here";
  if (need_charon) {
    if (!std::filesystem::exists("/usr/lib/ipsec/charon")) return "no /usr/lib/ipsec/charon (strongswan-charon)";
    if (!host::run_command({"sh", "-c", "command -v swanctl"}).ok()) return "no swanctl (strongswan-swanctl)";
    if (!std::filesystem::exists("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so")) {
      return "no kernel-libipsec plugin (libcharon-extra-plugins)";
    }
    if (!std::filesystem::exists("/usr/lib/ipsec/plugins/libstrongswan-gcm.so")) {
      return "no gcm plugin (libstrongswan-standard-plugins) for esp aes256gcm16";
    }
  }
  return std::nullopt;
}

ProgressSink test_progress() {
  return [](std::string_view line) { std::cout << "  | " << line << std::endl; };
}

std::vector<std::string> existing_namespaces(const std::string& labid) {
  std::vector<std::string> found;
  const std::string prefix = "ergw-" + labid + "-";
  for (const auto& ns : list_netns()) {
    if (ns.rfind(prefix, 0) == 0) found.push_back(ns);
  }
  return found;
}

}  // namespace ergw::lab::testing
