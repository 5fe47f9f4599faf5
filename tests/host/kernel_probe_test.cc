// The kernel probe: prints what it found, explains every verdict, and agrees
// with an independent try of the same feature. It runs everywhere; without
// the right to make a network namespace every verdict is "no" with the reason.
#include "host/kernel_probe.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

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

// ergwd's systemd unit: capability bounding set CAP_NET_ADMIN,
// CAP_NET_BIND_SERVICE and CAP_NET_RAW, no new privileges (image/systemd/
// ergwd.service). Empty on success, else what failed.
std::string drop_to_ergwd_unit_capabilities() {
  const uint64_t kept = (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_NET_RAW);
  for (int cap = 0; cap < 64; ++cap) {
    if ((kept >> cap) & 1) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      return "PR_CAPBSET_DROP " + std::to_string(cap) + ": " + std::strerror(errno);
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::string("PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = data[0].permitted = static_cast<uint32_t>(kept);
  if (syscall(SYS_capset, &header, data) != 0) return std::string("capset: ") + std::strerror(errno);
  return {};
}

// The probe as ergwd runs it under its hardened unit: no CAP_SYS_ADMIN for
// `unshare -n`, no CAP_SETFCAP for mapping root in a user namespace. It must
// still get a network namespace (through a user namespace) and reach the
// same verdicts as with every capability: the appliance's kernel data plane
// depends on it.
TEST(KernelProbe, WorksWithTheCapabilitiesOfErgwdsUnit) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (to drop to the unit's capabilities)";
  const KernelOffer full = probe_kernel();
  if (!full.network_namespaces.present) GTEST_SKIP() << "no network namespaces even as root";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    std::string report = drop_to_ergwd_unit_capabilities();
    if (report.empty()) {
      const KernelOffer offer = probe_kernel();
      report = std::string(offer.network_namespaces.present ? "y" : "n") + (offer.esp.present ? "y" : "n") +
               (offer.esp_gcm.present ? "y" : "n") + (offer.xfrm_interfaces.present ? "y" : "n") +
               offer.network_namespaces.evidence;
    } else {
      report = "!" + report;
    }
    const ssize_t written = write(fds[1], report.data(), report.size());
    _exit(written == static_cast<ssize_t>(report.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string report;
  char buffer[512];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) report.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_GE(report.size(), 4U);
  ASSERT_NE(report[0], '!') << report.substr(1);
  std::cout << "with ergwd's unit capabilities: network namespaces: " << report.substr(4) << "\n";
  EXPECT_EQ(report[0], 'y') << report.substr(4);
  EXPECT_NE(report.find("--user"), std::string::npos) << "through a user namespace: " << report.substr(4);
  EXPECT_EQ(report[1] == 'y', full.esp.present) << full.esp.evidence;
  EXPECT_EQ(report[2] == 'y', full.esp_gcm.present) << full.esp_gcm.evidence;
  EXPECT_EQ(report[3] == 'y', full.xfrm_interfaces.present) << full.xfrm_interfaces.evidence;
}

}  // namespace
}  // namespace ergw::host
