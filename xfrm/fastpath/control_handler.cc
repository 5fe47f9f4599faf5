#include "xfrm/fastpath/control_handler.h"

#include <openssl/rand.h>

#include "xfrm/control/message.h"
#include "xfrm/control/requests.h"
#include "xfrm/fastpath/spi_text.h"

namespace ergw::xfrm::fastpath {
namespace {

using control::MessageReader;
using control::MessageWriter;

std::vector<uint8_t> error_reply(uint16_t type, uint32_t sequence, int32_t status, const std::string& text) {
  return MessageWriter(type, sequence, status).text(ERGW_IPSEC_ATTR_ERROR_TEXT, text).finish();
}

// Maps a state error to the status charon must see: NOT_FOUND lets charon
// tell "already gone" from a failure.
int32_t status_for(const std::string& error) {
  if (error.rfind("no SA", 0) == 0 || error.rfind("no such", 0) == 0 || error.rfind("no route", 0) == 0) {
    return ERGW_IPSEC_E_NOT_FOUND;
  }
  if (error.find(" exists") != std::string::npos) return ERGW_IPSEC_E_EXISTS;
  if (error.find("not carried") != std::string::npos) return ERGW_IPSEC_E_UNSUPPORTED;
  return ERGW_IPSEC_E_INVALID;
}

}  // namespace

ControlHandler::ControlHandler(IpsecState& state, IkeSocketHook ike_socket, ReleaseHook release, LogHook log)
    : state_(state), ike_socket_(std::move(ike_socket)), release_(std::move(release)), log_(std::move(log)) {
  // A client that sees a new instance knows we restarted and replays its SAs.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&instance_), sizeof(instance_)) != 1) instance_ = 1;
}

std::vector<uint8_t> ControlHandler::handle(std::span<const uint8_t> bytes, ControlSession& session) {
  auto parsed = MessageReader::parse(bytes);
  if (!parsed.ok()) {
    // Answer what we can: the sequence number if the header is there.
    const uint16_t type = bytes.size() >= 8 ? static_cast<uint16_t>(bytes[6] | (bytes[7] << 8)) : 0;
    const uint32_t sequence = bytes.size() >= 12 ? static_cast<uint32_t>(bytes[8] | (bytes[9] << 8) |
                                                                         (bytes[10] << 16) | (bytes[11] << 24))
                                                 : 0;
    const bool version = parsed.error().rfind("protocol version", 0) == 0;
    return error_reply(type, sequence, version ? ERGW_IPSEC_E_VERSION : ERGW_IPSEC_E_INVALID, parsed.error());
  }
  const MessageReader& m = *parsed;
  const uint16_t type = m.header().type;
  const uint32_t seq = m.header().sequence;
  const std::string what(control::message_name(type));
  auto fail = [&](const std::string& error) {
    log_(what + " refused: " + error);
    return error_reply(type, seq, status_for(error), error);
  };
  auto ok = [&] { return MessageWriter(type, seq).finish(); };

  switch (type) {
    case ERGW_IPSEC_MSG_HELLO: {
      auto name = m.text(ERGW_IPSEC_ATTR_NAME);
      if (!name.ok()) return fail(name.error());
      session.peer_name = std::string(name->value_or("unnamed")).substr(0, 64);
      return MessageWriter(type, seq)
          .text(ERGW_IPSEC_ATTR_NAME, "ergw-fastpath")
          .text(ERGW_IPSEC_ATTR_VERSION_TEXT, "ergw-ipsec protocol " + std::to_string(ERGW_IPSEC_PROTOCOL_VERSION))
          .u64(ERGW_IPSEC_ATTR_INSTANCE, instance_)
          .finish();
    }
    case ERGW_IPSEC_MSG_SUBSCRIBE:
      session.subscribed = true;
      return ok();
    case ERGW_IPSEC_MSG_GET_SPI: {
      auto r = control::decode_get_spi(m);
      if (!r.ok()) return fail(r.error());
      auto spi = state_.get_spi(*r);
      if (!spi.ok()) return error_reply(type, seq, ERGW_IPSEC_E_INTERNAL, spi.error());
      return MessageWriter(type, seq).u32(ERGW_IPSEC_ATTR_SPI, *spi).finish();
    }
    case ERGW_IPSEC_MSG_ADD_SA: {
      auto r = control::decode_add_sa(m);
      if (!r.ok()) return fail(r.error());
      const std::string line = std::string(r->config.direction == esp::Direction::inbound ? "in" : "out") + " spi " +
                               hex32(r->key.spi) + " reqid " + std::to_string(r->reqid) + " " +
                               esp::to_string(r->config.algorithm) + " " + r->key.src.to_string() + " -> " +
                               r->key.dst.to_string() +
                               (r->config.encapsulation == esp::Encapsulation::udp ? " udp" : " esp") +
                               (r->replay ? " (replayed" +
                                                (r->reported_packets != 0 || r->reported_bytes != 0
                                                     ? ", charon had seen " + std::to_string(r->reported_packets) +
                                                           " packets " + std::to_string(r->reported_bytes) + " bytes"
                                                     : std::string()) +
                                                ")"
                                          : "");
      if (Status s = state_.add_sa(*r); !s.ok()) return fail(s.error());
      log_("sa added " + line);
      return ok();
    }
    case ERGW_IPSEC_MSG_UPDATE_SA: {
      auto r = control::decode_update_sa(m);
      if (!r.ok()) return fail(r.error());
      if (Status s = state_.update_sa(*r); !s.ok()) return fail(s.error());
      log_("sa updated spi " + hex32(r->key.spi) + " now " + r->new_src.to_string() + " -> " + r->new_dst.to_string());
      return ok();
    }
    case ERGW_IPSEC_MSG_QUERY_SA: {
      auto r = control::decode_sa_key(m);
      if (!r.ok()) return fail(r.error());
      auto usage = state_.query_sa(*r);
      if (!usage.ok()) return error_reply(type, seq, ERGW_IPSEC_E_NOT_FOUND, usage.error());
      return MessageWriter(type, seq)
          .u64(ERGW_IPSEC_ATTR_BYTES, usage->bytes)
          .u64(ERGW_IPSEC_ATTR_PACKETS, usage->packets)
          .u64(ERGW_IPSEC_ATTR_USE_TIME, usage->use_time)
          .finish();
    }
    case ERGW_IPSEC_MSG_DEL_SA: {
      auto r = control::decode_sa_key(m);
      if (!r.ok()) return fail(r.error());
      if (Status s = state_.del_sa(*r); !s.ok()) return error_reply(type, seq, ERGW_IPSEC_E_NOT_FOUND, s.error());
      log_("sa deleted spi " + hex32(r->spi) + " to " + r->dst.to_string());
      return ok();
    }
    case ERGW_IPSEC_MSG_FLUSH_SAS:
      state_.flush_sas();
      log_("sas flushed");
      return ok();
    case ERGW_IPSEC_MSG_ADD_POLICY:
    case ERGW_IPSEC_MSG_DEL_POLICY: {
      const bool adding = type == ERGW_IPSEC_MSG_ADD_POLICY;
      auto r = control::decode_policy(m, adding);
      if (!r.ok()) return fail(r.error());
      Status s = adding ? state_.add_policy(*r) : state_.del_policy(*r);
      if (!s.ok()) return adding ? fail(s.error()) : error_reply(type, seq, ERGW_IPSEC_E_NOT_FOUND, s.error());
      static constexpr const char* kDirections[] = {"in", "out", "fwd"};
      log_(std::string(adding ? "policy added " : "policy deleted ") + kDirections[static_cast<int>(r->direction)] +
           " " + r->src_ts.prefix.to_string() + " === " + r->dst_ts.prefix.to_string() + " reqid " +
           std::to_string(r->reqid) + (r->if_id ? " if_id " + std::to_string(r->if_id) : ""));
      return ok();
    }
    case ERGW_IPSEC_MSG_FLUSH_POLICIES:
      state_.flush_policies();
      return ok();
    case ERGW_IPSEC_MSG_ADD_ROUTE:
    case ERGW_IPSEC_MSG_DEL_ROUTE: {
      auto r = control::decode_route(m);
      if (!r.ok()) return fail(r.error());
      Status s = type == ERGW_IPSEC_MSG_ADD_ROUTE ? state_.add_route(*r) : state_.del_route(*r);
      if (!s.ok()) return fail(s.error());
      return ok();
    }
    case ERGW_IPSEC_MSG_IKE_SOCKET: {
      auto r = control::decode_ike_socket(m);
      if (!r.ok()) return fail(r.error());
      auto shared = ike_socket_(r->family, r->port);
      if (!shared.ok()) return error_reply(type, seq, ERGW_IPSEC_E_INTERNAL, shared.error());
      log_(*shared);
      return ok();
    }
    case ERGW_IPSEC_MSG_RELEASE_IKE_PORTS:
      log_(release_());
      return ok();
    case ERGW_IPSEC_MSG_STATUS:
      return MessageWriter(type, seq).text(ERGW_IPSEC_ATTR_STATUS_JSON, state_.status_json()).finish();
    default:
      return error_reply(type, seq, ERGW_IPSEC_E_INVALID,
                         "message type " + std::to_string(type) + " is not a request this side answers");
  }
}

std::vector<uint8_t> ControlHandler::expire_event(const ExpireEvent& event) {
  return MessageWriter(ERGW_IPSEC_MSG_EXPIRE, 0)
      .u8(ERGW_IPSEC_ATTR_PROTO, control::kProtoEsp)
      .u32(ERGW_IPSEC_ATTR_SPI, event.spi)
      .address(ERGW_IPSEC_ATTR_DST, event.dst)
      .u8(ERGW_IPSEC_ATTR_HARD, event.hard ? 1 : 0)
      .finish();
}

std::vector<uint8_t> ControlHandler::mapping_event(const MappingEvent& event) {
  return MessageWriter(ERGW_IPSEC_MSG_MAPPING, 0)
      .u8(ERGW_IPSEC_ATTR_PROTO, control::kProtoEsp)
      .u32(ERGW_IPSEC_ATTR_SPI, event.spi)
      .address(ERGW_IPSEC_ATTR_DST, event.dst)
      .address(ERGW_IPSEC_ATTR_NEW_SRC, event.new_src)
      .u16(ERGW_IPSEC_ATTR_NEW_SRC_PORT, event.new_port)
      .finish();
}

}  // namespace ergw::xfrm::fastpath
