// What this kernel offers a VPN gateway, found by trying each feature rather
// than by reading version numbers: a kernel may be new and still lack ESP
// (it is a module, or configured out), as the machines ergw is built on do.
// Each try runs in a network namespace of its own (`unshare -n`), which
// vanishes with the command, so nothing is left behind and nothing of the
// host's own network is touched.
//
//  - network namespaces: `unshare -n true` (every other try needs one)
//  - ESP: `ip xfrm state add ... proto esp` with cbc(aes) and hmac(sha256);
//    a kernel without ESP says "Requested type not found"
//  - ESP with AES-GCM: the same with rfc4106(gcm(aes))
//  - xfrm interfaces: `ip link add ... type xfrm if_id 1`
//  - TUN: /dev/net/tun opens (strongSwan's kernel-libipsec needs it)
//
// ergwd chooses its data plane from this (gateway/ergwd/data_plane.h) and
// logs it; `ergw-lab caps` prints it; tests print it before they skip.
#pragma once

#include <string>

namespace ergw::host {

struct Capability {
  bool present = false;
  std::string evidence;  // what was tried and what the kernel said
};

struct KernelOffer {
  std::string release;  // uname -r
  Capability network_namespaces;
  Capability esp;
  Capability esp_gcm;
  Capability xfrm_interfaces;
  Capability tun;

  // Linux XFRM can carry route-based tunnels: ESP and xfrm interfaces.
  bool carries_kernel_esp() const { return esp.present && xfrm_interfaces.present; }
  // strongSwan's userspace ESP over TUN can run.
  bool carries_libipsec() const { return tun.present; }

  // "ESP yes; ESP AES-GCM no (...); xfrm interfaces no (...); TUN yes", for
  // one log or status line.
  std::string summary() const;
  // One line per capability, for humans and test output.
  std::string to_string() const;
};

KernelOffer probe_kernel();

}  // namespace ergw::host
