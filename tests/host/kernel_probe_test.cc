// The kernel probe: prints what it found, explains every verdict, and agrees
// with an independent try of the same feature. It runs everywhere; without
// the right to make a network namespace every verdict is "no" with the reason.
#include "host/kernel_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>

#include "host/process.h"

namespace ergw::host {
namespace {

TEST(KernelProbe, SaysWhatItFoundAndWhy) {
  const KernelOffer offer = probe_kernel();
  std::cout << offer.to_string();
  EXPECT_FALSE(offer.release.empty());
  for (const Capability* c :
       {&offer.network_namespaces, &offer.esp, &offer.esp_gcm, &offer.xfrm_interfaces, &offer.tun}) {
    EXPECT_FALSE(c->evidence.empty());
  }
  EXPECT_EQ(offer.carries_kernel_esp(), offer.esp.present && offer.xfrm_interfaces.present);
  EXPECT_EQ(offer.carries_libipsec(), offer.tun.present);
  const std::string summary = offer.summary();
  EXPECT_NE(summary.find("ESP"), std::string::npos);
  EXPECT_NE(summary.find("xfrm interfaces"), std::string::npos);
  EXPECT_NE(summary.find("TUN"), std::string::npos);
  EXPECT_EQ(summary.find('\n'), std::string::npos) << "the summary is one line";
  if (!offer.network_namespaces.present) {
    EXPECT_FALSE(offer.esp.present);
    EXPECT_NE(offer.esp.evidence.find("not tried"), std::string::npos);
  }
}

// Another algorithm pair and a fresh namespace: the kernel either has ESP or
// not, whatever the probe asked for first.
TEST(KernelProbe, EspVerdictAgreesWithAnIndependentTry) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make a network namespace";
  const KernelOffer offer = probe_kernel();
  const auto r = run_command({"unshare", "-n", "ip", "xfrm", "state", "add", "src", "198.51.100.1", "dst",
                              "198.51.100.2", "proto", "esp", "spi", "0x200", "mode", "tunnel", "enc", "cbc(aes)",
                              "0x" + std::string(32, '3'), "auth-trunc", "hmac(sha1)", "0x" + std::string(40, '4'),
                              "96"});
  std::cout << "independent ESP try: " << (r.ok() ? "accepted" : r.err);
  EXPECT_EQ(r.ok(), offer.esp.present) << r.err << " vs " << offer.esp.evidence;
  const auto link = run_command({"unshare", "-n", "ip", "link", "add", "x0", "type", "xfrm", "if_id", "7"});
  EXPECT_EQ(link.ok(), offer.xfrm_interfaces.present) << link.err << " vs " << offer.xfrm_interfaces.evidence;
}

}  // namespace
}  // namespace ergw::host
