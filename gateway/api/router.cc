#include "gateway/api/router.h"

namespace ergw::api {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '/' || c == '\0') return false;  // never smuggle a separator or a NUL into a name
    out += c;
    i += 2;
  }
  return true;
}

// One pattern segment against one path segment.
bool match_segment(const std::string& pattern, const std::string& segment, std::map<std::string, std::string>& params) {
  if (pattern.empty() || pattern[0] != '{') return pattern == segment;
  const auto close = pattern.find('}');
  if (close == std::string::npos) return false;
  const std::string name = pattern.substr(1, close - 1);
  const std::string verb = pattern.substr(close + 1);  // "" or ":rollback"
  if (segment.size() <= verb.size()) return false;
  if (!verb.empty() && segment.compare(segment.size() - verb.size(), verb.size(), verb) != 0) return false;
  const std::string value = segment.substr(0, segment.size() - verb.size());
  if (value.empty()) return false;
  // Without a verb, a value holding ':' would be another route's custom method.
  if (verb.empty() && value.find(':') != std::string::npos) return false;
  params[name] = value;
  return true;
}

}  // namespace

bool split_path(std::string_view path, std::vector<std::string>& segments) {
  segments.clear();
  if (path.empty() || path[0] != '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const auto raw = path.substr(start, end - start);
    if (raw.empty()) {
      if (end == path.size() && !segments.empty()) break;  // one trailing slash
      if (end == path.size() && segments.empty()) break;   // "/"
      return false;
    }
    std::string segment;
    if (!decode(raw, segment) || segment == "." || segment == "..") return false;
    segments.push_back(std::move(segment));
    start = end + 1;
  }
  return true;
}

int Router::add(boost::beast::http::verb method, std::string pattern, Access access) {
  Route r{method, pattern, {}, access};
  split_path(pattern, r.segments);
  routes_.push_back(std::move(r));
  return static_cast<int>(routes_.size()) - 1;
}

RouteMatch Router::match(boost::beast::http::verb method, std::string_view path) const {
  RouteMatch out;
  std::vector<std::string> segments;
  if (!split_path(path, segments)) return out;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& r = routes_[i];
    if (r.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t s = 0; s < segments.size() && ok; ++s) ok = match_segment(r.segments[s], segments[s], params);
    if (!ok) continue;
    if (r.method == method) {
      out.route = static_cast<int>(i);
      out.params = std::move(params);
      out.allowed.clear();
      return out;
    }
    out.allowed.push_back(std::string(boost::beast::http::to_string(r.method)));
  }
  return out;
}

}  // namespace ergw::api
