// libFuzzer: arbitrary bytes as HTTP requests to the management API: Beast's
// parser with the server's limits, then the RequestHandler with its
// authentication, routing, every resource and the write path into the
// management service (over the fake daemon and a store on tmpfs). The first
// byte picks the transport: root on the local socket (past authentication,
// so the resources are reached), or HTTPS with whatever Authorization the
// input carries.
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include "gateway/api/request_handler.h"
#include "gateway/store/store_file.h"
#include "tests/gateway/api/fuzz_service.h"

namespace {

using namespace ergw;

struct World : api::testing::FuzzService {
  World() : FuzzService("http-fuzz") {
    reader = std::move(store::open_store_reader((dir / "store.db").string()).value());
    api::HandlerContext context;
    context.api_executor = io.get_executor();
    context.daemon_executor = io.get_executor();
    context.service = service.get();
    context.reader = reader.get();
    context.board = &board;
    context.audit = audit.get();
    context.build = {"fuzz", "fuzz"};
    handler = std::make_unique<api::RequestHandler>(context);
  }

  std::unique_ptr<store::Database> reader;
  std::unique_ptr<api::RequestHandler> handler;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  if (size < 1) return 0;
  api::Peer peer;
  if (data[0] & 1) {
    peer.transport = api::Peer::Transport::unix_socket;
    peer.address = "local";
    peer.uid = 0;
  } else {
    peer.transport = api::Peer::Transport::tls;
    peer.address = "192.0.2." + std::to_string(data[0]);
  }
  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.body_limit(api::kMaxBodyBytes);
  parser.header_limit(api::kMaxHeaderBytes);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data + 1, size - 1), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;
  auto request = parser.release();
  bool answered = false;
  world.handler->handle(request, peer, [&](api::Response response) {
    answered = true;
    // Every answer is a complete HTTP response with a status of its own.
    if (response.result_int() < 200 || response.result_int() > 599) __builtin_trap();
  });
  for (int i = 0; i < 10000 && !answered; ++i) world.io.run_one_for(std::chrono::milliseconds(10));
  if (!answered) __builtin_trap();  // a request was never answered
  world.io.poll();
  return 0;
}
