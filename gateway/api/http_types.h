// The HTTP vocabulary the API's parts share.
#pragma once

#include <optional>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ergw::api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// Where a request came from, as the transport knows it.
struct Peer {
  enum class Transport { tls, unix_socket };
  Transport transport = Transport::tls;
  std::string address;                // "192.0.2.7" (TLS) or "local"
  std::optional<uint32_t> uid;        // the unix socket's peer credentials
  std::string client_certificate;     // subject of a verified client certificate (mutual TLS)
};

// Request limits: a configuration of 100 connections is about 300 KB.
inline constexpr size_t kMaxBodyBytes = 8u << 20;
inline constexpr size_t kMaxHeaderBytes = 16u << 10;

}  // namespace ergw::api
