// Router: a request's method and path to a route and its parameters.
// Patterns are segments: literals, "{name}" (one segment), and Google-style
// custom methods "{name}:verb" or "literal:verb" ("/v1/config:validate",
// "/v1/config/revisions/{id}:rollback"). A path that matches a pattern but
// not its method gives 405 with the methods allowed.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <ostream>

#include <boost/beast/http/verb.hpp>

namespace ergw::api {

enum class Access { open, read, admin };

struct RouteMatch {
  int route = -1;  // index into the routes added, or -1
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed;  // when the path matched but the method did not
};

class Router {
 public:
  // Returns the route's index.
  int add(boost::beast::http::verb method, std::string pattern, Access access);
  RouteMatch match(boost::beast::http::verb method, std::string_view path) const;
  Access access(int route) const { return routes_[static_cast<size_t>(route)].access; }
  const std::string& pattern(int route) const { return routes_[static_cast<size_t>(route)].pattern; }
  boost::beast::http::verb method(int route) const { return routes_[static_cast<size_t>(route)].method; }
  size_t size() const { return routes_.size(); }

 private:
  struct Route {
    boost::beast::http::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    Access access;
  };
  std::vector<Route> routes_;
};

// The path's segments, percent-decoded; false for a path that is not one
// (bad escapes, "..", empty segments in the middle).
bool split_path(std::string_view path, std::vector<std::string>& segments);

}  // namespace ergw::api
