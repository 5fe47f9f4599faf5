// libFuzzer: arbitrary bytes as the JSON bodies the management API takes,
// each through its whole path in the management service (reading, the rule
// book, the daemon's check, storing and applying over the fake daemon):
// PUT /v1/config and POST /v1/config:validate (a configuration document),
// PUT /v1/connections/{name} (a connection resource), PUT .../sharedkey,
// POST /v1/apikeys. The first byte picks the body; writes name the active
// revision so that they get past If-Match. Every reply must be one of the
// statuses the API documents for it, and no reply may quote a PSK (every
// PSK in the input is replaced by a canary first).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <cctype>
#include <set>

#include "common/parse_json.h"
#include "gateway/store/store_file.h"
#include "tests/gateway/api/fuzz_service.h"

namespace {

using namespace ergw;

struct World : api::testing::FuzzService {
  World() : FuzzService("bodies-fuzz") {}

  api::ServiceReply call(const std::function<void(api::ReplyFn)>& c) {
    std::optional<api::ServiceReply> reply;
    c([&](api::ServiceReply r) { reply = std::move(r); });
    for (int i = 0; i < 10000 && !reply; ++i) io.run_one_for(std::chrono::milliseconds(10));
    if (!reply) __builtin_trap();
    io.poll();
    return *reply;
  }

  api::WriteOptions write() {
    api::WriteOptions o;
    o.actor = {"fuzz", "fuzz"};
    o.action = "fuzz";
    o.if_match = store::read_head(*db).value().active.value_or(0);
    o.wait = std::chrono::milliseconds(0);
    return o;
  }
};

constexpr const char* kCanary = "Canary0Psk0ergw0fuzz";

// Every PSK and BGP password in the body becomes a canary (valid as a PSK) that no reply may
// quote; the input itself may not contain it.
void plant_canaries(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string key = it.key();
      for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if ((key == "sharedkey" || key == "bgppassword") && it->is_string()) {
        *it = std::string(kCanary) + "01234567";
      } else {
        plant_canaries(it.value());
      }
    }
  } else if (j.is_array()) {
    for (auto& v : j) plant_canaries(v);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (text.find("Canary0Psk") != std::string_view::npos) return 0;
  auto body = parse_json(text);
  if (!body) return 0;
  plant_canaries(*body);
  if ((data[0] % 6 == 3 || data[0] % 6 == 4) && body->is_object() && body->contains("value") && (*body)["value"].is_string()) {
    (*body)["value"] = std::string(kCanary) + "01234567";
  }
  std::set<int> allowed;
  api::ServiceReply reply;
  switch (data[0] % 6) {
    case 0:
      reply = world.call([&](api::ReplyFn done) { world.service->put_config(*body, world.write(), done); });
      allowed = {200, 202, 409, 412, 422, 502};
      break;
    case 1:
      reply = world.call([&](api::ReplyFn done) { world.service->validate_config(*body, done); });
      allowed = {200, 422};
      break;
    case 2:
      reply = world.call([&](api::ReplyFn done) { world.service->put_connection("fuzzed", *body, world.write(), done); });
      allowed = {200, 202, 409, 412, 422, 502};
      break;
    case 3:
      reply = world.call([&](api::ReplyFn done) { world.service->put_shared_key("azure-hub", *body, world.write(), done); });
      allowed = {200, 202, 404, 409, 412, 422, 502};
      break;
    case 4:
      reply = world.call([&](api::ReplyFn done) { world.service->put_bgp_password("azure-hub", *body, world.write(), done); });
      allowed = {200, 202, 404, 409, 412, 422, 502};
      break;
    default:
      reply = world.call([&](api::ReplyFn done) { world.service->create_api_key(*body, {"fuzz", "fuzz"}, done); });
      allowed = {201, 409, 422};
      break;
  }
  if (!allowed.count(reply.status)) __builtin_trap();
  const auto answer = reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (answer.find(kCanary) != std::string::npos) __builtin_trap();
  return 0;
}
