#include "routing/reply.h"

namespace ergw::routing {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string printable(std::string_view line) {
  std::string s;
  for (char c : line.substr(0, 40)) s += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return s;
}

}  // namespace

std::string Reply::text() const {
  std::string s;
  for (const auto& line : lines) {
    if (!s.empty()) s += '\n';
    s += line.text;
  }
  return s;
}

Status ReplyParser::feed(std::string_view bytes) {
  if (failed_) return Error{failure_};
  size_t start = 0;
  while (start < bytes.size()) {
    size_t newline = bytes.find('\n', start);
    if (newline == std::string_view::npos) {
      pending_.append(bytes.substr(start));
      if (pending_.size() > kMaxLineLength) {
        failed_ = true;
        failure_ = "BIRD reply line longer than " + std::to_string(kMaxLineLength) + " bytes";
        return Error{failure_};
      }
      break;
    }
    Status status;
    if (pending_.empty()) {
      status = take_line(bytes.substr(start, newline - start));
    } else {
      pending_.append(bytes.substr(start, newline - start));
      std::string line = std::move(pending_);
      pending_.clear();
      status = take_line(line);
    }
    if (!status.ok()) {
      failed_ = true;
      failure_ = status.error();
      return status;
    }
    start = newline + 1;
  }
  return Status::success();
}

Status ReplyParser::take_line(std::string_view line) {
  if (line.size() > kMaxLineLength) return Error{"BIRD reply line too long"};
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!line.empty() && line[0] == '+') {
    current_.async_messages.emplace_back(line.substr(1));
    return Status::success();
  }
  if (line.size() >= 5 && is_digit(line[0]) && is_digit(line[1]) && is_digit(line[2]) && is_digit(line[3]) &&
      (line[4] == '-' || line[4] == ' ')) {
    int code = (line[0] - '0') * 1000 + (line[1] - '0') * 100 + (line[2] - '0') * 10 + (line[3] - '0');
    current_.lines.push_back({code, std::string(line.substr(5))});
    if (line[4] == ' ') {
      done_.push_back(std::move(current_));
      current_ = Reply{};
    }
    return Status::success();
  }
  if (!line.empty() && line[0] == ' ') {
    // Same code as the line before; that line must exist and must have been
    // a "DDDD-" line (a final line would have ended the reply).
    if (current_.lines.empty()) return Error{"BIRD reply continuation line without a code before it: \"" + printable(line) + "\""};
    current_.lines.push_back({current_.lines.back().code, std::string(line.substr(1))});
    return Status::success();
  }
  return Error{"malformed BIRD reply line: \"" + printable(line) + "\""};
}

std::optional<Reply> ReplyParser::next() {
  if (done_.empty()) return std::nullopt;
  Reply reply = std::move(done_.front());
  done_.pop_front();
  return reply;
}

Result<std::vector<Reply>> parse_replies(std::string_view bytes) {
  ReplyParser parser;
  if (auto status = parser.feed(bytes); !status.ok()) return Error{status.error()};
  if (parser.in_reply()) return Error{"BIRD reply is incomplete (no final \"DDDD \" line)"};
  std::vector<Reply> replies;
  while (auto reply = parser.next()) replies.push_back(std::move(*reply));
  return replies;
}

}  // namespace ergw::routing
