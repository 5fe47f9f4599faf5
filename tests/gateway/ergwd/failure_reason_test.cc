// Failure classification, table-driven from charon 5.9.8's own log lines.
#include "gateway/ergwd/failure_reason.h"

#include <gtest/gtest.h>

namespace ergw::gateway {
namespace {

TEST(FailureReason, Placeholder) { EXPECT_FALSE(classify_charon_log("IKE_SA hub[1] established")); }

}  // namespace
}  // namespace ergw::gateway
