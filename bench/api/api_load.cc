// api_load: N concurrent HTTPS clients on kept-alive connections, each
// sending GETs to the given paths in turn for a while, and the latency of
// every answer. Prints one JSON object: per path the count, errors, p50, p99
// and max in milliseconds. A load generator for bench/api/run, not a test.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

struct Samples {
  std::vector<double> millis;
  uint64_t errors = 0;
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(asio::io_context& io, asio::ssl::context& tls, asio::ip::tcp::endpoint endpoint, std::string key,
         std::vector<std::string> paths, size_t first, Clock::time_point until, std::map<std::string, Samples>& samples)
      : io_(io), tls_(tls), endpoint_(endpoint), key_(std::move(key)), paths_(std::move(paths)), next_(first),
        until_(until), samples_(samples) {}

  void start() {
    stream_ = std::make_unique<asio::ssl::stream<beast::tcp_stream>>(io_, tls_);
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(*stream_).async_connect(endpoint_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->fail();
      self->stream_->async_handshake(asio::ssl::stream_base::client, [self](beast::error_code e) {
        if (e) return self->fail();
        self->send();
      });
    });
  }

 private:
  void fail() {
    ++samples_[paths_[next_ % paths_.size()]].errors;
    if (Clock::now() < until_) start();
  }

  void send() {
    if (Clock::now() >= until_) return;
    path_ = paths_[next_++ % paths_.size()];
    request_ = {http::verb::get, path_, 11};
    request_.set(http::field::host, "ergw");
    request_.set(http::field::authorization, "Bearer " + key_);
    request_.keep_alive(true);
    response_ = {};
    buffer_.clear();
    started_ = Clock::now();
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(30));
    http::async_write(*stream_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->fail();
      http::async_read(*self->stream_, self->buffer_, self->response_, [self](beast::error_code e, size_t) {
        if (e) return self->fail();
        auto& s = self->samples_[self->path_];
        if (self->response_.result_int() != 200) {
          ++s.errors;
        } else {
          s.millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - self->started_).count());
        }
        self->send();
      });
    });
  }

  asio::io_context& io_;
  asio::ssl::context& tls_;
  asio::ip::tcp::endpoint endpoint_;
  std::string key_;
  std::vector<std::string> paths_;
  size_t next_;
  Clock::time_point until_;
  std::map<std::string, Samples>& samples_;
  std::unique_ptr<asio::ssl::stream<beast::tcp_stream>> stream_;
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
  beast::flat_buffer buffer_;
  std::string path_;
  Clock::time_point started_;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"concurrent HTTPS GETs against ergwd's API, with latency percentiles"};
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  std::string cacert;
  std::string key_file;
  int clients = 50;
  double seconds = 10;
  std::vector<std::string> paths;
  app.add_option("--address", address);
  app.add_option("--port", port)->required();
  app.add_option("--cacert", cacert)->required();
  app.add_option("--key-file", key_file)->required();
  app.add_option("--clients", clients);
  app.add_option("--seconds", seconds);
  app.add_option("--path", paths)->required();
  CLI11_PARSE(app, argc, argv);
  std::string key;
  std::getline(std::ifstream(key_file) >> std::ws, key);

  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.load_verify_file(cacert);
  tls.set_verify_mode(asio::ssl::verify_peer);
  std::map<std::string, Samples> samples;
  for (const auto& p : paths) samples[p];
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address), port);
  for (int i = 0; i < clients; ++i) {
    std::make_shared<Client>(io, tls, endpoint, key, paths, static_cast<size_t>(i), until, samples)->start();
  }
  io.run();
  nlohmann::json out = nlohmann::json::object();
  for (auto& [path, s] : samples) {
    out[path] = {{"count", s.millis.size()},
                 {"errors", s.errors},
                 {"p50_ms", percentile(s.millis, 0.50)},
                 {"p99_ms", percentile(s.millis, 0.99)},
                 {"max_ms", s.millis.empty() ? 0.0 : *std::max_element(s.millis.begin(), s.millis.end())}};
  }
  std::cout << out.dump() << "\n";
  return 0;
}
