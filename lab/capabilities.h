// What this kernel offers the data plane, found by trying rather than by
// guessing from version numbers: each probe runs in a throwaway namespace
// (ergw-caps-<pid>-<n>) that is deleted afterwards.
//
// - ESP: `ip xfrm state add ... proto esp` (cbc(aes)+hmac(sha256)); fails with
//   "Requested type not found" where the kernel has no ESP.
// - ESP with AES-GCM: the same with rfc4106(gcm(aes)).
// - xfrm interfaces: `ip link add ... type xfrm if_id 1`.
// - TUN: /dev/net/tun opens (kernel-libipsec needs it).
#pragma once

#include <string>

namespace ergw::lab {

struct Capability {
  bool present = false;
  std::string reason;  // what was tried and what the kernel said
};

struct KernelCapabilities {
  std::string kernel_release;
  Capability esp;
  Capability esp_gcm;
  Capability xfrm_interface;
  Capability tun;

  // "kernel" when ESP and xfrm interfaces work, else "libipsec" (userspace
  // ESP over TUN), else "none".
  std::string recommended_data_plane() const;
  // One line per capability, for humans and test logs.
  std::string to_string() const;
};

KernelCapabilities detect_kernel_capabilities();

}  // namespace ergw::lab
