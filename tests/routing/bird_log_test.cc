#include "routing/bird_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace ergw::routing {
namespace {

// Lines as BIRD 2.0.12 writes them to a log file (`log "FILE" all`).
constexpr std::string_view kLog =
    "2026-11-30 23:10:01.120 <INFO> Started\n"
    "2026-11-30 23:10:07.502 <RMT> ergw_azure10: Error: Bad peer AS: 64999\n"
    "2026-11-30 23:10:07.503 <RMT> ergw_azure1: Error: Bad peer AS: 65516\n"
    "2026-11-30 23:10:09.001 <RMT> ergw_azure0: Received: Bad peer AS: 65010\n"
    "2026-11-30 23:10:12.800 <RMT> ergw_azure1: Error: Bad peer AS: 65517\n"
    "2026-11-30 23:10:15.000 <RMT> ergw_azure2: Error: Hold timer expired\n";

TEST(BirdLog, TheLastLineOfTheProtocolsErrorCarriesTheValue) {
  // "BGP Error:" in `show protocols` is "Error:" in the log (sent by this BIRD).
  EXPECT_EQ(logged_session_error(kLog, "ergw_azure1", "BGP Error: Bad peer AS"), "BGP Error: Bad peer AS: 65517");
  EXPECT_EQ(logged_session_error(kLog, "ergw_azure0", "Received: Bad peer AS"), "Received: Bad peer AS: 65010");
  EXPECT_EQ(logged_session_error(kLog, "ergw_azure10", "BGP Error: Bad peer AS"), "BGP Error: Bad peer AS: 64999");
  EXPECT_EQ(logged_session_error(kLog, "ergw_azure2", "BGP Error: Hold timer expired"), "BGP Error: Hold timer expired");
}

TEST(BirdLog, NoLineForTheErrorIsNothing) {
  EXPECT_FALSE(logged_session_error(kLog, "ergw_azure0", "BGP Error: Bad peer AS"));  // it received, never sent
  EXPECT_FALSE(logged_session_error(kLog, "ergw_azure", "BGP Error: Bad peer AS"));   // a prefix of other names
  EXPECT_FALSE(logged_session_error(kLog, "ergw_azure3", "BGP Error: Bad peer AS"));
  EXPECT_FALSE(logged_session_error("", "ergw_azure1", "BGP Error: Bad peer AS"));
  EXPECT_FALSE(logged_session_error(kLog, "ergw_azure1", ""));
  // A longer description that only starts like the stored one is another error.
  EXPECT_FALSE(logged_session_error(kLog, "ergw_azure2", "BGP Error: Hold timer"));
}

TEST(BirdLog, TailStartsAtALine) {
  const auto path = std::filesystem::temp_directory_path() / ("ergw-bird-log-" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << kLog;
  }
  const std::string whole = read_log_tail(path.string());
  EXPECT_EQ(whole, kLog);
  const std::string tail = read_log_tail(path.string(), 80);
  EXPECT_LE(tail.size(), 80u);
  EXPECT_TRUE(tail.starts_with("2026-11-30 23:10:15.000")) << tail;
  EXPECT_EQ(read_log_tail((path.string() + ".missing")), "");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ergw::routing
