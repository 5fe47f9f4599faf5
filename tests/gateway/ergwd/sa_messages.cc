#include "tests/gateway/ergwd/sa_messages.h"

#include <stdexcept>

namespace ergw::gateway::testing {

vici::Section ike_section(const IkeSpec& spec) {
  vici::Section ike;
  ike.set_uint("uniqueid", spec.uniqueid).set("version", "2").set("state", spec.state);
  ike.set("local-host", "172.16.0.1").set("local-port", "4500").set("local-id", "172.16.0.1");
  ike.set("remote-host", spec.remote).set("remote-port", "4500").set("remote-id", spec.remote);
  ike.set_bool("initiator", spec.initiator);
  ike.set("initiator-spi", "1122334455667788").set("responder-spi", "8877665544332211");
  if (spec.state == "ESTABLISHED") {
    ike.set("encr-alg", "AES_GCM_16").set("encr-keysize", "256").set("prf-alg", "PRF_HMAC_SHA2_384");
    ike.set("dh-group", "ECP_384").set("established", "60").set("rekey-time", "25000");
  }
  if (!spec.children.empty()) {
    vici::Section& children = ike.section("child-sas");
    for (const auto& c : spec.children) {
      vici::Section& child = children.section(c.name + "-" + std::to_string(c.uniqueid));
      child.set("name", c.name).set_uint("uniqueid", c.uniqueid).set("reqid", "1").set("state", c.state);
      child.set("mode", "TUNNEL").set("protocol", "ESP").set("encap", "yes");
      child.set("spi-in", "c0ffee0" + std::to_string(c.uniqueid % 10)).set("spi-out", "0badf00d");
      child.set("encr-alg", "AES_GCM_16").set("encr-keysize", "256");
      child.set_uint("packets-in", c.packets_in).set_uint("bytes-in", c.packets_in * 100);
      child.set("packets-out", "0").set("bytes-out", "0");
      child.set_list("local-ts", {"0.0.0.0/0"}).set_list("remote-ts", {"0.0.0.0/0"});
    }
  }
  return ike;
}

vici::Message list_sa_event(const IkeSpec& spec) {
  vici::Message event;
  event.set_section(spec.name, ike_section(spec));
  return event;
}

vici::IkeSaInfo ike_sa(const IkeSpec& spec) {
  auto parsed = vici::parse_list_sa_event(list_sa_event(spec));
  if (!parsed || parsed->size() != 1) throw std::logic_error("bad IkeSpec: " + (parsed ? "" : parsed.error()));
  return parsed->front();
}

vici::Message updown_event(const IkeSpec& spec, bool up) {
  vici::Message event;
  if (up) event.set("up", "yes");
  event.set_section(spec.name, ike_section(spec));
  return event;
}

vici::Message ike_rekey_event(const IkeSpec& old_sa, const IkeSpec& new_sa) {
  vici::Message event;
  vici::Section& body = event.section(old_sa.name);
  body.set_section("old", ike_section(old_sa));
  body.set_section("new", ike_section(new_sa));
  return event;
}

vici::Message child_rekey_event(const IkeSpec& ike, const ChildSpec& old_sa, const ChildSpec& new_sa) {
  IkeSpec bare = ike;
  bare.children.clear();
  vici::Section body = ike_section(bare);
  // The CHILD sections as ike_section writes them, under old and new.
  IkeSpec with_old = bare;
  with_old.children = {old_sa};
  IkeSpec with_new = bare;
  with_new.children = {new_sa};
  const auto child_of = [](const IkeSpec& spec) {
    const vici::Section full = ike_section(spec);
    const auto& children = std::get<vici::Section>(full.find("child-sas")->value);
    return std::get<vici::Section>(children.entries().front().value);
  };
  vici::Section& pair = body.section("child-sas").section(old_sa.name);
  pair.set_section("old", child_of(with_old));
  pair.set_section("new", child_of(with_new));
  vici::Message event;
  event.set_section(ike.name, body);
  return event;
}

vici::Message log_event(const std::string& ike_name, uint64_t uniqueid, const std::string& message) {
  vici::Message event;
  event.set("group", "IKE").set("level", "1").set("thread", "12");
  if (!ike_name.empty()) event.set("ikesa-name", ike_name).set_uint("ikesa-uniqueid", uniqueid);
  event.set("msg", message);
  return event;
}

}  // namespace ergw::gateway::testing
