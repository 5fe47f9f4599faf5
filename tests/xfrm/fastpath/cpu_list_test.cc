#include "xfrm/fastpath/cpu_list.h"

#include <gtest/gtest.h>

namespace ergw::xfrm::fastpath {
namespace {

TEST(CpuList, SingleListsAndRanges) {
  EXPECT_EQ(parse_cpu_list("0"), (std::vector<int>{0}));
  EXPECT_EQ(parse_cpu_list("1,0"), (std::vector<int>{0, 1}));
  EXPECT_EQ(parse_cpu_list("0-3,6"), (std::vector<int>{0, 1, 2, 3, 6}));
  EXPECT_EQ(parse_cpu_list("2-2,2"), (std::vector<int>{2}));
  EXPECT_EQ(parse_cpu_list("1023"), (std::vector<int>{1023}));
}

TEST(CpuList, RefusesMalformedText) {
  for (const char* bad : {"", ",", "0,", ",0", "a", "-1", "1-", "-", "3-1", "0 ,1", "1024", "0x1", "1--2"}) {
    EXPECT_FALSE(parse_cpu_list(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace ergw::xfrm::fastpath
