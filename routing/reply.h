// BIRD's control-socket reply framing (BIRD 2.0.12 nest/cli.c, doc/reply_codes):
// each line starts with a four-digit code followed by '-' (more lines follow)
// or ' ' (the last line of the reply). A continuation line with the same code
// as the line before may replace the whole prefix by a single space. Lines
// starting with '+' are asynchronous messages, not part of any reply.
// Codes: 0xxx ok, 1xxx table entry, 2xxx table heading, 8xxx runtime error,
// 9xxx parse error.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ergw::routing {

// BIRD reply codes ergw acts on.
namespace reply_code {
inline constexpr int kOk = 0;
inline constexpr int kWelcome = 1;
inline constexpr int kReadingConfiguration = 2;
inline constexpr int kReconfigured = 3;
inline constexpr int kReconfigurationInProgress = 4;
inline constexpr int kStatusReport = 13;
inline constexpr int kNothingToDo = 19;
inline constexpr int kConfigurationOk = 20;
inline constexpr int kVersion = 1000;
inline constexpr int kProtocolList = 1002;
inline constexpr int kProtocolDetails = 1006;
inline constexpr int kRouteList = 1007;
inline constexpr int kRouteDetails = 1008;
inline constexpr int kUptime = 1011;
inline constexpr int kRouteAttributes = 1012;
inline constexpr int kHeading = 2002;
inline constexpr int kNetworkNotFound = 8001;
inline constexpr int kConfigurationFileError = 8002;
inline constexpr int kNoProtocolsMatch = 8003;
inline constexpr int kParseError = 9001;
}  // namespace reply_code

struct ReplyLine {
  int code = 0;
  std::string text;  // without the "DDDD-"/"DDDD " or " " prefix
};

struct Reply {
  std::vector<ReplyLine> lines;  // the last one is the final line
  std::vector<std::string> async_messages;  // '+' lines seen while this reply was read

  int final_code() const { return lines.empty() ? -1 : lines.back().code; }
  // 8xxx runtime errors and 9xxx parse errors.
  bool is_error() const { return final_code() >= 8000; }
  // The lines' texts joined by '\n'; for an error, its message.
  std::string text() const;
};

// Incremental: bytes in, whole replies out. Once the stream breaks the
// framing, the parser stays failed (the connection cannot be trusted).
class ReplyParser {
 public:
  // Longest line accepted; BIRD itself never sends more than 512 bytes.
  static constexpr size_t kMaxLineLength = 64 * 1024;

  Status feed(std::string_view bytes);
  std::optional<Reply> next();
  bool failed() const { return failed_; }
  // A reply has started but not ended.
  bool in_reply() const { return !current_.lines.empty() || !pending_.empty(); }

 private:
  Status take_line(std::string_view line);

  std::string pending_;
  Reply current_;
  std::deque<Reply> done_;
  bool failed_ = false;
  std::string failure_;
};

// Parses a complete capture (for tests and tools): all replies in `bytes`.
Result<std::vector<Reply>> parse_replies(std::string_view bytes);

}  // namespace ergw::routing
