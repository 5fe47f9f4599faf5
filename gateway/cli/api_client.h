// The ergw CLI's client for ergwd's management API: HTTP over the local unix
// socket (root on the appliance; the default) or HTTPS to a management
// address with an API key. One request per call, synchronous, bounded by a
// timeout.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/result.h"

namespace ergw::cli {

struct ApiTarget {
  std::string socket = "/run/ergw/ergwd.sock";  // used when no URL is given
  std::string url;                            // https://host:port
  std::string key;                            // API key (or from key_file, ERGW_API_KEY)
  std::string key_file;
  std::string cacert;  // the appliance's certificate (or a CA) to verify it with
  bool insecure = false;
  std::chrono::seconds timeout{330};  // longer than the API's longest wait
};

struct ApiResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::optional<nlohmann::json> json;
  std::string etag() const;
  // The problem's title and detail, or the status line.
  std::string problem() const;
};

// --socket, --url, --key, --key-file, --cacert, --insecure on a (sub)command;
// ERGW_URL and ERGW_API_KEY fill in what is not given.
void add_api_options(CLI::App& command, const std::shared_ptr<ApiTarget>& target);

Result<ApiResponse> api_request(const ApiTarget& target, const std::string& method, const std::string& path,
                                const std::optional<nlohmann::json>& body = std::nullopt,
                                const std::map<std::string, std::string>& headers = {});

// GET `path` for a read command: its JSON on 200; otherwise says why on
// stderr ("ergw <command>: ...") and returns nothing.
std::optional<nlohmann::json> get_json(const ApiTarget& target, const std::string& path, const std::string& command);

}  // namespace ergw::cli
