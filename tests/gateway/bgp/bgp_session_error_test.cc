#include "gateway/ergwd/bgp_session_error.h"

#include <gtest/gtest.h>

#include "tests/common/text_contains.h"

namespace ergw::gateway {
namespace {

constexpr SessionAsns kAsns{65010, 65515};

using ergw::testing::contains;

TEST(BgpSessionError, BadPeerAsWeSentNamesWhatAzureSentAndWhatIsExpected) {
  const std::string hint = explain_session_error("BGP Error: Bad peer AS: 65516", kAsns);
  EXPECT_TRUE(contains(hint, "sent AS 65516")) << hint;
  EXPECT_TRUE(contains(hint, "expects AS 65515")) << hint;
  EXPECT_TRUE(contains(hint, "bgpSettings.asn")) << hint;
  // Without the logged value (the log was rotated away) it still says what is expected.
  const std::string bare = explain_session_error("BGP Error: Bad peer AS", kAsns);
  EXPECT_TRUE(contains(bare, "sent another AS")) << bare;
  EXPECT_TRUE(contains(bare, "expects AS 65515")) << bare;
}

TEST(BgpSessionError, BadPeerAsAzureSentNamesOurAsAndTheLocalNetworkGateway) {
  const std::string hint = explain_session_error("Received: Bad peer AS: 65010", kAsns);
  EXPECT_TRUE(contains(hint, "refused ergw's AS 65010")) << hint;
  EXPECT_TRUE(contains(hint, "local network gateway's bgpSettings.asn on Azure must be 65010")) << hint;
  EXPECT_TRUE(contains(explain_session_error("Received: Bad peer AS", kAsns), "refused ergw's AS 65010"));
}

TEST(BgpSessionError, TimersAndRefusedConnections) {
  EXPECT_TRUE(contains(explain_session_error("BGP Error: Hold timer expired", kAsns), "TCP port 179"));
  EXPECT_TRUE(contains(explain_session_error("Received: Unacceptable hold time: 90", kAsns), "hold 180 s"));
  EXPECT_TRUE(contains(explain_session_error("Socket: Connection refused", kAsns), "enableBgp"));
}

TEST(BgpSessionError, NothingToAddIsEmpty) {
  EXPECT_EQ(explain_session_error("", kAsns), "");
  EXPECT_EQ(explain_session_error("Received: Cease", kAsns), "");
  EXPECT_EQ(explain_session_error("BGP Error: Bad peer AS: 12x", kAsns).find("12x"), std::string::npos);
}

}  // namespace
}  // namespace ergw::gateway
