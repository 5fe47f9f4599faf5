// Messages shaped like charon 5.9.8's (field names from the vici README), shared
// by the typed-view and command tests.
#pragma once

#include "vici/message.h"

namespace ergw::vici::testing {

inline Message sample_list_sa_event() {
  Message event;
  Section& ike = event.section("azure");
  ike.set("uniqueid", "3").set("version", "2").set("state", "ESTABLISHED");
  ike.set("local-host", "192.0.2.1").set("local-port", "4500").set("local-id", "192.0.2.1");
  ike.set("remote-host", "198.51.100.7").set("remote-port", "4500").set("remote-id", "198.51.100.7");
  ike.set("initiator", "yes").set("initiator-spi", "1122334455667788");
  ike.set("responder-spi", "8877665544332211");
  ike.set("encr-alg", "AES_CBC").set("encr-keysize", "256").set("integ-alg", "HMAC_SHA2_256_128");
  ike.set("prf-alg", "PRF_HMAC_SHA2_256").set("dh-group", "MODP_1024");
  ike.set("established", "120").set("rekey-time", "28000");
  ike.set_list("tasks-queued", {});
  Section& child = ike.section("child-sas").section("net-5");
  child.set("name", "net").set("uniqueid", "5").set("reqid", "1").set("state", "INSTALLED");
  child.set("mode", "TUNNEL").set("protocol", "ESP").set("encap", "yes");
  child.set("spi-in", "c8a1b2c3").set("spi-out", "0badf00d");
  child.set("encr-alg", "AES_GCM_16").set("encr-keysize", "256");
  child.set("bytes-in", "1000").set("packets-in", "10").set("use-in", "2");
  child.set("bytes-out", "2000").set("packets-out", "20");
  child.set("rekey-time", "3000").set("life-time", "3300").set("install-time", "100");
  child.set_list("local-ts", {"0.0.0.0/0"}).set_list("remote-ts", {"10.1.0.0/16", "10.2.0.0/16"});
  return event;
}

}  // namespace ergw::vici::testing
