#include <gtest/gtest.h>

#include "routing/reply.h"
#include "tests/routing/capture.h"

namespace ergw::routing {
namespace {

using testing::capture_reply;
using testing::read_capture;

struct CaptureCase {
  const char* file;
  int final_code;
  size_t lines;
};

class RealCaptures : public ::testing::TestWithParam<CaptureCase> {};

TEST_P(RealCaptures, ParseIntoOneReplyWithTheFinalCode) {
  const auto& c = GetParam();
  Reply reply = capture_reply(c.file);
  EXPECT_EQ(reply.final_code(), c.final_code);
  EXPECT_EQ(reply.lines.size(), c.lines);
  EXPECT_EQ(reply.is_error(), c.final_code >= 8000);
}

INSTANTIATE_TEST_SUITE_P(
    Bird2012, RealCaptures,
    ::testing::Values(CaptureCase{"hello.txt", 1, 1}, CaptureCase{"configure_check_ok.txt", 20, 2},
                      CaptureCase{"configure_reconfigured.txt", 3, 2},
                      CaptureCase{"configure_in_progress.txt", 4, 2},
                      CaptureCase{"configure_check_syntax_error.txt", 8002, 2},
                      CaptureCase{"configure_check_missing_file.txt", 8002, 2},
                      CaptureCase{"parse_error.txt", 9001, 1}, CaptureCase{"no_protocols_match.txt", 8003, 1},
                      CaptureCase{"network_not_found.txt", 8001, 1}, CaptureCase{"show_status.txt", 13, 7},
                      CaptureCase{"show_protocols.txt", 0, 9},
                      CaptureCase{"show_protocols_all_established.txt", 0, 43},
                      CaptureCase{"show_protocols_all_connect.txt", 0, 17}));

TEST(ReplyParser, ContinuationLinesTakeTheCodeOfTheLineBefore) {
  Reply reply = capture_reply("show_protocols_all_established.txt");
  ASSERT_GE(reply.lines.size(), 4u);
  EXPECT_EQ(reply.lines[0].code, 2002);
  EXPECT_EQ(reply.lines[1].code, 1002);
  EXPECT_EQ(reply.lines[2].code, 1006);
  EXPECT_EQ(reply.lines[2].text, "  BGP state:          Established");
  // " " replaced "1006-": the text keeps BIRD's own indentation.
  EXPECT_EQ(reply.lines[3].code, 1006);
  EXPECT_EQ(reply.lines[3].text, "    Neighbor address: 169.254.21.5");
}

TEST(ReplyParser, AMinusLineDoesNotEndTheReply) {
  // "0002-Reading configuration" starts with a 0xxx code but is not final;
  // a client that stops at any 0xxx/8xxx/9xxx code would cut this reply.
  ReplyParser parser;
  ASSERT_TRUE(parser.feed("0002-Reading configuration from /x.conf\n").ok());
  EXPECT_FALSE(parser.next());
  EXPECT_TRUE(parser.in_reply());
  ASSERT_TRUE(parser.feed("8002 /x.conf:3:1 syntax error\n").ok());
  auto reply = parser.next();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->final_code(), 8002);
  EXPECT_EQ(reply->lines.back().text, "/x.conf:3:1 syntax error");
}

TEST(ReplyParser, ByteByByteEqualsAllAtOnce) {
  const std::string bytes = read_capture("show_protocols_all.txt") + read_capture("configure_check_syntax_error.txt");
  auto whole = parse_replies(bytes);
  ASSERT_TRUE(whole.ok());
  ReplyParser parser;
  std::vector<Reply> pieces;
  for (char c : bytes) {
    ASSERT_TRUE(parser.feed(std::string_view(&c, 1)).ok());
    while (auto reply = parser.next()) pieces.push_back(std::move(*reply));
  }
  ASSERT_EQ(pieces.size(), whole->size());
  ASSERT_EQ(pieces.size(), 2u);
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(pieces[i].text(), (*whole)[i].text());
    EXPECT_EQ(pieces[i].final_code(), (*whole)[i].final_code());
  }
}

TEST(ReplyParser, ErrorRepliesKeepBirdsMessage) {
  Reply reply = capture_reply("configure_check_syntax_error.txt");
  EXPECT_EQ(reply.lines.back().code, 8002);
  EXPECT_NE(reply.text().find("syntax error, unexpected ';'"), std::string::npos);
  Reply parse_error = capture_reply("parse_error.txt");
  EXPECT_EQ(parse_error.final_code(), 9001);
}

TEST(ReplyParser, AsynchronousLinesAreSetAside) {
  auto replies = parse_replies("+0022 something happened\n1000-BIRD 2.0.12\n0013 Daemon is up and running\n");
  ASSERT_TRUE(replies.ok());
  ASSERT_EQ(replies->size(), 1u);
  EXPECT_EQ((*replies)[0].async_messages.size(), 1u);
  EXPECT_EQ((*replies)[0].lines.size(), 2u);
}

TEST(ReplyParser, RejectsBrokenFramingAndStaysFailed) {
  ReplyParser parser;
  EXPECT_FALSE(parser.feed("hello there\n").ok());
  EXPECT_TRUE(parser.failed());
  EXPECT_FALSE(parser.feed("0000 \n").ok());

  EXPECT_FALSE(parse_replies(" continuation without a code\n").ok());
  EXPECT_FALSE(parse_replies("0000 \n continuation after a final line\n").ok());
  EXPECT_FALSE(parse_replies("12-short\n").ok());
  EXPECT_FALSE(parse_replies("1002xno separator\n").ok());
}

TEST(ReplyParser, IncompleteReplyIsReported) {
  auto replies = parse_replies("1002-p1 BGP --- up\n");
  EXPECT_FALSE(replies.ok());
  EXPECT_FALSE(parse_replies("0000").ok());  // no newline yet
}

TEST(ReplyParser, RefusesUnboundedLines) {
  ReplyParser parser;
  std::string chunk(4096, 'x');
  Status status;
  for (size_t sent = 0; sent <= ReplyParser::kMaxLineLength && status.ok(); sent += chunk.size()) {
    status = parser.feed(chunk);
  }
  EXPECT_FALSE(status.ok());
}

}  // namespace
}  // namespace ergw::routing
