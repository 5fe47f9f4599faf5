// Parses `show protocols [all]` and `show status` replies (BIRD 2.0.12 text,
// see tests/routing/data/ for real captures).
#include <cstdio>
#include <cstdlib>

#include "routing/protocol_status.h"
#include "routing/text_util.h"

namespace ergw::routing {
namespace {

using text::starts_with;
using text::trim;
using text::words;

bool looks_like_date(std::string_view s) {
  return s.size() == 10 && s[4] == '-' && s[7] == '-';
}

// Splits "Key:   value" at the first ':' followed by a space or the end.
bool split_key_value(std::string_view line, std::string_view& key, std::string_view& value) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == ':' && (i + 1 == line.size() || line[i + 1] == ' ')) {
      key = trim(line.substr(0, i));
      value = trim(line.substr(i + 1));
      return true;
    }
  }
  return false;
}

std::optional<uint32_t> parse_u32(std::string_view s) {
  auto v = text::parse_u64(s);
  if (!v || *v > 0xffffffffu) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

// "144.869/180" -> 180
std::optional<int> negotiated_timer(std::string_view value) {
  auto slash = value.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto v = text::parse_u64(trim(value.substr(slash + 1)));
  if (!v || *v > 65535) return std::nullopt;
  return static_cast<int>(*v);
}

// "1 imported, 2 filtered, 3 exported, 4 preferred"
std::optional<RouteCounts> parse_route_counts(std::string_view value) {
  RouteCounts counts;
  bool any = false;
  while (!value.empty()) {
    auto comma = value.find(',');
    auto part = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    auto w = words(part);
    if (w.size() != 2) return std::nullopt;
    auto n = text::parse_u64(w[0]);
    if (!n) return std::nullopt;
    if (w[1] == "imported") {
      counts.imported = *n;
    } else if (w[1] == "filtered") {
      counts.filtered = *n;
    } else if (w[1] == "exported") {
      counts.exported = *n;
    } else if (w[1] == "preferred") {
      counts.preferred = *n;
    } else {
      return std::nullopt;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return counts;
}

Result<ProtocolStatus> parse_summary(std::string_view line) {
  auto w = words(line);
  if (w.size() < 4) return Error{"malformed BIRD protocol line (fewer than 4 columns)"};
  ProtocolStatus p;
  p.name = std::string(w[0]);
  p.protocol = std::string(w[1]);
  p.table = std::string(w[2]);
  p.state = parse_protocol_state(w[3]);
  if (w.size() >= 5) {
    size_t since_words = (looks_like_date(w[4]) && w.size() >= 6 && w[5].find(':') != std::string_view::npos) ? 2 : 1;
    std::string_view last = w[4 + since_words - 1];
    size_t since_begin = static_cast<size_t>(w[4].data() - line.data());
    size_t since_end = static_cast<size_t>(last.data() - line.data()) + last.size();
    p.since = std::string(line.substr(since_begin, since_end - since_begin));
    p.since_time = parse_bird_time(p.since);
    p.info = std::string(trim(line.substr(since_end)));
  }
  return p;
}

// State while reading the 1006 detail block of one protocol.
struct DetailReader {
  ProtocolStatus* protocol = nullptr;
  bool in_channel = false;
  std::string last_limit;  // "Import limit", "Receive limit", ...

  void take(std::string_view raw) {
    std::string_view line = trim(raw);
    if (line.empty()) return;
    if (starts_with(line, "Channel ")) {
      in_channel = true;
      protocol->channels.push_back({});
      protocol->channels.back().name = std::string(trim(line.substr(8)));
      return;
    }
    std::string_view key, value;
    if (!split_key_value(line, key, value)) return;  // capability lists, stats table rows
    if (!in_channel) {
      take_protocol_field(key, value);
    } else {
      take_channel_field(protocol->channels.back(), key, value);
    }
  }

  void take_protocol_field(std::string_view key, std::string_view value) {
    if (key == "BGP state") {
      bgp().state = parse_bgp_state(value);
    } else if (key == "Neighbor address") {
      bgp().neighbor_address = IpAddress::parse(value);
    } else if (key == "Neighbor AS") {
      bgp().neighbor_as = parse_u32(value);
    } else if (key == "Local AS") {
      bgp().local_as = parse_u32(value);
    } else if (key == "Neighbor ID") {
      bgp().neighbor_id = IpAddress::parse(value);
    } else if (key == "Source address") {
      bgp().source_address = IpAddress::parse(value);
    } else if (key == "Session") {
      bgp().session = std::string(value);
    } else if (key == "Hold timer") {
      bgp().hold_time = negotiated_timer(value);
    } else if (key == "Keepalive timer") {
      bgp().keepalive_time = negotiated_timer(value);
    } else if (key == "Last error") {
      bgp().last_error = std::string(value);
    } else if (key == "Error wait") {
      take_error_wait(value);
    }
  }

  // "3.210/5": seconds left / the whole wait.
  void take_error_wait(std::string_view value) {
    const size_t slash = value.find('/');
    if (slash == std::string_view::npos) return;
    const std::string left(trim(value.substr(0, slash)));
    char* end = nullptr;
    const double seconds = std::strtod(left.c_str(), &end);
    if (end != left.c_str() && *end == '\0' && seconds >= 0) bgp().error_wait_left = seconds;
    if (auto whole = text::parse_u64(trim(value.substr(slash + 1))); whole && *whole <= 65535) {
      bgp().error_wait = static_cast<int>(*whole);
    }
  }

  void take_channel_field(ChannelStatus& c, std::string_view key, std::string_view value) {
    if (key == "State") {
      c.state = std::string(value);
    } else if (key == "Table") {
      c.table = std::string(value);
    } else if (key == "Input filter") {
      c.input_filter = std::string(value);
    } else if (key == "Output filter") {
      c.output_filter = std::string(value);
    } else if (key == "Routes") {
      c.routes = parse_route_counts(value);
    } else if (key == "Import limit" || key == "Receive limit" || key == "Export limit") {
      last_limit = std::string(key);
      if (key == "Import limit") c.import_limit = text::parse_u64(value);
    } else if (key == "Action") {
      if (last_limit == "Import limit") c.import_limit_action = std::string(value);
    }
  }

  BgpSessionStatus& bgp() {
    if (!protocol->bgp) protocol->bgp.emplace();
    return *protocol->bgp;
  }
};

}  // namespace

const char* to_string(ProtocolState state) {
  switch (state) {
    case ProtocolState::kDown: return "down";
    case ProtocolState::kFlush: return "flush";
    case ProtocolState::kStart: return "start";
    case ProtocolState::kUp: return "up";
    case ProtocolState::kStop: return "stop";
    case ProtocolState::kUnknown: break;
  }
  return "unknown";
}

const char* to_string(BgpState state) {
  switch (state) {
    case BgpState::kIdle: return "Idle";
    case BgpState::kConnect: return "Connect";
    case BgpState::kActive: return "Active";
    case BgpState::kOpenSent: return "OpenSent";
    case BgpState::kOpenConfirm: return "OpenConfirm";
    case BgpState::kEstablished: return "Established";
    case BgpState::kClose: return "Close";
    case BgpState::kDown: return "Down";
    case BgpState::kPassive: return "Passive";
    case BgpState::kUnknown: break;
  }
  return "Unknown";
}

ProtocolState parse_protocol_state(std::string_view text) {
  if (text == "down") return ProtocolState::kDown;
  if (text == "flush") return ProtocolState::kFlush;
  if (text == "start") return ProtocolState::kStart;
  if (text == "up") return ProtocolState::kUp;
  if (text == "stop") return ProtocolState::kStop;
  return ProtocolState::kUnknown;
}

BgpState parse_bgp_state(std::string_view text) {
  text = trim(text);
  for (auto s : {BgpState::kIdle, BgpState::kConnect, BgpState::kActive, BgpState::kOpenSent, BgpState::kOpenConfirm,
                 BgpState::kEstablished, BgpState::kClose, BgpState::kDown, BgpState::kPassive}) {
    if (text == to_string(s)) return s;
  }
  return BgpState::kUnknown;
}

std::optional<BirdTime> parse_bird_time(std::string_view text) {
  auto w = words(text);
  if (w.empty() || !looks_like_date(w[0])) return std::nullopt;
  auto year = text::parse_u64(w[0].substr(0, 4));
  auto month = text::parse_u64(w[0].substr(5, 2));
  auto day = text::parse_u64(w[0].substr(8, 2));
  if (!year || !month || !day) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(static_cast<int>(*year)), std::chrono::month(static_cast<unsigned>(*month)),
                                   std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  std::chrono::seconds time_of_day{0};
  if (w.size() >= 2) {
    std::string_view t = w[1];
    if (t.size() < 8 || t[2] != ':' || t[5] != ':') return std::nullopt;
    auto h = text::parse_u64(t.substr(0, 2));
    auto m = text::parse_u64(t.substr(3, 2));
    auto s = text::parse_u64(t.substr(6, 2));
    if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
    time_of_day = std::chrono::hours(*h) + std::chrono::minutes(*m) + std::chrono::seconds(*s);
  }
  return BirdTime{std::chrono::local_days{date}.time_since_epoch() + time_of_day};
}

const ChannelStatus* ProtocolStatus::channel(std::string_view channel_name) const {
  for (const auto& c : channels) {
    if (c.name == channel_name) return &c;
  }
  return nullptr;
}

Result<std::vector<ProtocolStatus>> parse_show_protocols(const Reply& reply) {
  if (reply.final_code() == reply_code::kNoProtocolsMatch) return std::vector<ProtocolStatus>{};
  if (reply.is_error()) return Error{"BIRD: " + reply.text()};
  std::vector<ProtocolStatus> protocols;
  DetailReader detail;
  for (const ReplyLine& line : reply.lines) {
    if (line.code == reply_code::kProtocolList) {
      auto p = parse_summary(line.text);
      if (!p.ok()) return Error{p.error()};
      protocols.push_back(std::move(*p));
      detail = DetailReader{};
    } else if (line.code == reply_code::kProtocolDetails) {
      if (protocols.empty()) return Error{"BIRD protocol details before any protocol line"};
      detail.protocol = &protocols.back();
      detail.take(line.text);
    }
  }
  return protocols;
}

Result<DaemonStatus> parse_show_status(const Reply& reply) {
  if (reply.is_error()) return Error{"BIRD: " + reply.text()};
  DaemonStatus status;
  for (const ReplyLine& line : reply.lines) {
    std::string_view t = trim(line.text);
    if (line.code == reply_code::kVersion) {
      status.version = std::string(t);
    } else if (starts_with(t, "Router ID is ")) {
      status.router_id = IpAddress::parse(t.substr(13));
    } else if (starts_with(t, "Current server time is ")) {
      status.server_time = parse_bird_time(t.substr(23));
    } else if (starts_with(t, "Last reboot on ")) {
      status.last_reboot = parse_bird_time(t.substr(15));
    } else if (starts_with(t, "Last reconfiguration on ")) {
      status.last_reconfiguration = parse_bird_time(t.substr(24));
    }
  }
  if (!reply.lines.empty()) status.message = reply.lines.back().text;
  if (status.version.empty()) return Error{"BIRD status reply has no version line"};
  return status;
}

std::optional<std::chrono::seconds> time_in_state(const ProtocolStatus& protocol, const DaemonStatus& daemon) {
  if (!protocol.since_time || !daemon.server_time) return std::nullopt;
  return *daemon.server_time - *protocol.since_time;
}

}  // namespace ergw::routing
