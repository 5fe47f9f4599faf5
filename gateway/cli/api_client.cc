#include "gateway/cli/api_client.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "common/parse_json.h"

namespace ergw::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::string ApiResponse::etag() const {
  auto it = headers.find("etag");
  if (it == headers.end()) return "";
  std::string value = it->second;
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return value;
}

std::string ApiResponse::problem() const {
  if (json && json->is_object() && json->contains("title")) {
    std::string text = json->value("title", "");
    if (json->contains("detail")) text += ": " + json->value("detail", "");
    return text;
  }
  return "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body.substr(0, 200));
}

void add_api_options(CLI::App& command, const std::shared_ptr<ApiTarget>& target) {
  auto* group = command.add_option_group("ergwd's API");
  group->add_option("--socket", target->socket, "ergwd's local API socket (root on the appliance)")
      ->capture_default_str();
  group->add_option("--url", target->url, "ergwd's management address, https://HOST:PORT (env ERGW_URL)");
  group->add_option("--key", target->key, "API key for --url (env ERGW_API_KEY)");
  group->add_option("--key-file", target->key_file, "read the API key from this file");
  group->add_option("--cacert", target->cacert, "verify the appliance with this certificate or CA (PEM)");
  group->add_flag("--insecure", target->insecure, "do not verify the appliance's certificate (testing only)");
  command.preparse_callback([target](size_t) {
    if (target->url.empty()) {
      if (const char* url = std::getenv("ERGW_URL")) target->url = url;
    }
    if (target->key.empty()) {
      if (const char* key = std::getenv("ERGW_API_KEY")) target->key = key;
    }
  });
}

namespace {

struct Url {
  std::string host;
  std::string port = "443";
  std::string base_path;
};

Result<Url> parse_url(const std::string& text) {
  constexpr std::string_view kScheme = "https://";
  if (text.rfind(kScheme, 0) != 0) return Error{"--url must start with https:// (ergwd's API speaks HTTPS only)"};
  Url url;
  std::string rest = text.substr(kScheme.size());
  const auto slash = rest.find('/');
  if (slash != std::string::npos) {
    url.base_path = rest.substr(slash);
    while (!url.base_path.empty() && url.base_path.back() == '/') url.base_path.pop_back();
    rest = rest.substr(0, slash);
  }
  if (!rest.empty() && rest[0] == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return Error{"--url: unclosed [ in " + text};
    url.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') url.port = rest.substr(close + 2);
  } else {
    const auto colon = rest.find(':');
    url.host = rest.substr(0, colon);
    if (colon != std::string::npos) url.port = rest.substr(colon + 1);
  }
  if (url.host.empty()) return Error{"--url: no host in " + text};
  return url;
}

template <class Stream>
Result<ApiResponse> exchange(Stream& stream, http::request<http::string_body>& request) {
  beast::error_code ec;
  http::write(stream, request, ec);
  if (ec) return Error{"sending the request failed: " + ec.message()};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  http::read(stream, buffer, parser, ec);
  if (ec) return Error{"reading ergwd's answer failed: " + ec.message()};
  auto& response = parser.get();
  ApiResponse out;
  out.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(response.body());
  const auto type = out.headers["content-type"];
  if (type.rfind("application/json", 0) == 0 || type.rfind("application/problem+json", 0) == 0) {
    out.json = parse_json(out.body);
  }
  return out;
}

std::string read_key(const ApiTarget& target) {
  if (!target.key.empty() || target.key_file.empty()) return target.key;
  std::ifstream in(target.key_file);
  std::string key;
  std::getline(in, key);
  return key;
}

}  // namespace

Result<ApiResponse> api_request(const ApiTarget& target, const std::string& method, const std::string& path,
                                const std::optional<nlohmann::json>& body,
                                const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> request;
  request.method(http::string_to_verb(method));
  request.version(11);
  request.set(http::field::user_agent, "ergw-cli");
  request.set(http::field::accept, "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (body) {
    request.set(http::field::content_type, "application/json");
    request.body() = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  asio::io_context io;
  try {
    if (target.url.empty()) {
      request.target(path);
      request.set(http::field::host, "localhost");
      request.prepare_payload();
      beast::basic_stream<asio::local::stream_protocol> stream(io);
      stream.expires_after(target.timeout);
      beast::error_code ec;
      stream.socket().connect(asio::local::stream_protocol::endpoint(target.socket), ec);
      if (ec) {
        return Error{"cannot reach ergwd at " + target.socket + ": " + ec.message() +
                     " (is ergwd running? as root? or give --url and --key)"};
      }
      return exchange(stream, request);
    }
    auto url = parse_url(target.url);
    if (!url) return Error{url.error()};
    const auto key = read_key(target);
    if (key.empty()) return Error{"--url needs an API key: --key, --key-file or ERGW_API_KEY"};
    request.target(url->base_path + path);
    request.set(http::field::host, url->host);
    request.set(http::field::authorization, "Bearer " + key);
    request.prepare_payload();
    asio::ssl::context tls(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    if (target.insecure) {
      tls.set_verify_mode(asio::ssl::verify_none);
    } else {
      if (target.cacert.empty()) {
        tls.set_default_verify_paths();
      } else {
        tls.load_verify_file(target.cacert);
      }
      tls.set_verify_mode(asio::ssl::verify_peer);
      tls.set_verify_callback(asio::ssl::host_name_verification(url->host));
    }
    asio::ssl::stream<beast::tcp_stream> stream(io, tls);
    SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str());
    asio::ip::tcp::resolver resolver(io);
    beast::get_lowest_layer(stream).expires_after(target.timeout);
    beast::get_lowest_layer(stream).connect(resolver.resolve(url->host, url->port));
    stream.handshake(asio::ssl::stream_base::client);
    auto result = exchange(stream, request);
    beast::error_code ignored;
    stream.shutdown(ignored);
    return result;
  } catch (const boost::system::system_error& e) {
    return Error{"cannot talk to ergwd at " + target.url + ": " + e.what()};
  }
}

std::optional<nlohmann::json> get_json(const ApiTarget& target, const std::string& path, const std::string& command) {
  auto reply = api_request(target, "GET", path);
  if (!reply) {
    std::cerr << "ergw " << command << ": " << reply.error() << "\n";
    return std::nullopt;
  }
  if (reply->status != 200 || !reply->json) {
    std::cerr << "ergw " << command << ": " << reply->problem() << "\n";
    return std::nullopt;
  }
  return std::move(reply->json);
}

}  // namespace ergw::cli
