// Kernel capability detection: prints what it found, cleans up its scratch
// namespace, and agrees with an independent probe.
#include <unistd.h>

#include <gtest/gtest.h>

#include <iostream>

#include "lab/capabilities.h"
#include "lab/netns.h"
#include "tests/lab/lab_fixture.h"

namespace ergw::lab {
namespace {

TEST(LabCapabilities, DetectsAndExplains) {
  if (auto why = testing::lab_unavailable(false)) GTEST_SKIP() << *why;
  const KernelCapabilities caps = detect_kernel_capabilities();
  std::cout << caps.to_string();
  for (const Capability* c : {&caps.esp, &caps.esp_gcm, &caps.xfrm_interface, &caps.tun}) {
    EXPECT_FALSE(c->reason.empty());
  }
  EXPECT_FALSE(caps.kernel_release.empty());
  if (caps.recommended_data_plane() == "kernel") {
    EXPECT_TRUE(caps.esp.present && caps.xfrm_interface.present);
  }
  // No scratch namespace is left behind.
  const std::string scratch = "ergw-caps-" + std::to_string(getpid()) + "-";
  for (const auto& ns : list_netns()) EXPECT_NE(ns.rfind(scratch, 0), 0u) << ns;

  // Independent check of the ESP answer: the kernel lists ESP statistics
  // only when xfrm is there, and a state add in a fresh namespace must give
  // the same verdict as the detector.
  const std::string ns = "ergw-capscheck-" + std::to_string(getpid());
  ASSERT_TRUE(create_netns(ns).ok());
  const auto r = run_command({"ip", "-n", ns, "xfrm", "state", "add", "src", "198.51.100.1", "dst", "198.51.100.2",
                              "proto", "esp", "spi", "0x200", "mode", "tunnel", "enc", "cbc(aes)",
                              "0x" + std::string(32, '3'), "auth-trunc", "hmac(sha1)", "0x" + std::string(40, '4'),
                              "96"});
  EXPECT_TRUE(delete_netns(ns).ok());
  EXPECT_EQ(r.ok(), caps.esp.present) << r.err;
}

}  // namespace
}  // namespace ergw::lab
