// Reading libipsec's drops back from a charon log (lab/libipsec_drops.h):
// lines as charon 5.9.8 writes them with ike_name = yes and esp at level 2.
#include <gtest/gtest.h>

#include "lab/libipsec_drops.h"

namespace ergw::lab {
namespace {

constexpr const char* kNotInstalled = "inbound ESP packet does not belong to an installed SA";

std::string esp(const std::string& thread, const std::string& message, const std::string& ike = "") {
  return "13:29:46 " + thread + "[ESP] " + (ike.empty() ? "" : "<" + ike + "> ") + message + "\n";
}

TEST(LibipsecDrops, AReplyBeforeItsSaIsTheRace) {
  const std::string log = esp("10", "allocated SPI a19611f0", "hub|2") +
                          esp("02", "parsed ESP header with SPI a19611f0 [seq 1]") +
                          "13:29:46 05[NET] <hub|2> received packet: from 172.16.0.2[4500] to 172.16.0.1[4500]\n" +
                          esp("02", kNotInstalled) +
                          esp("12", "adding SAD entry with SPI a19611f0 and reqid {1}", "hub|2") +
                          esp("02", "parsed ESP header with SPI a19611f0 [seq 2]");
  const auto drops = libipsec_drops(log);
  EXPECT_EQ(drops.before_its_sa, 1);
  EXPECT_TRUE(drops.other_spis.empty());
}

TEST(LibipsecDrops, TheDropIsPairedWithItsOwnThreadsHeader) {
  // Another thread parses an installed SA's packet between the two lines.
  const std::string log = esp("10", "allocated SPI a19611f0", "hub|2") +
                          esp("09", "adding SAD entry with SPI 0261ae17 and reqid {1}", "hub|1") +
                          esp("02", "parsed ESP header with SPI a19611f0 [seq 1]") +
                          esp("03", "parsed ESP header with SPI 0261ae17 [seq 9]") + esp("02", kNotInstalled) +
                          esp("12", "adding SAD entry with SPI a19611f0 and reqid {1}", "hub|2");
  const auto drops = libipsec_drops(log);
  EXPECT_EQ(drops.before_its_sa, 1);
  EXPECT_TRUE(drops.other_spis.empty());
}

TEST(LibipsecDrops, AnSpiNeverAllocatedOrAlreadyGoneIsNotTheRace) {
  const std::string log = esp("09", "allocated SPI 13421670", "hub|3") +
                          esp("09", "adding SAD entry with SPI 13421670 and reqid {1}", "hub|3") +
                          // Its SA was installed before: a drop now means it was deleted too early.
                          esp("02", "parsed ESP header with SPI 13421670 [seq 40]") + esp("02", kNotInstalled) +
                          // Never allocated here.
                          esp("04", "parsed ESP header with SPI deadbeef [seq 1]") + esp("04", kNotInstalled) +
                          // Allocated, dropped, never installed (a CHILD SA that failed).
                          esp("11", "allocated SPI 0badc0de", "hub|3") +
                          esp("02", "parsed ESP header with SPI 0badc0de [seq 1]") + esp("02", kNotInstalled);
  const auto drops = libipsec_drops(log);
  EXPECT_EQ(drops.before_its_sa, 0);
  EXPECT_EQ(drops.other_spis, (std::vector<std::string>{"13421670", "deadbeef", "0badc0de"}));
}

TEST(LibipsecDrops, NothingDroppedInAQuietLog) {
  const std::string log = esp("09", "allocated SPI 13421670", "hub|3") +
                          esp("09", "adding SAD entry with SPI 13421670 and reqid {1}", "hub|3") +
                          esp("02", "parsed ESP header with SPI 13421670 [seq 1]") + "truncated line [ESP] <hub\n" +
                          "no newline at the end [ESP] ";
  const auto drops = libipsec_drops(log);
  EXPECT_EQ(drops.before_its_sa, 0);
  EXPECT_TRUE(drops.other_spis.empty());
}

}  // namespace
}  // namespace ergw::lab
