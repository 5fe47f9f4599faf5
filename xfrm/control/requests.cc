#include "xfrm/control/requests.h"

#include <string>
#include <utility>

namespace ergw::xfrm::control {
namespace {

std::string name(uint16_t type) { return std::string(attribute_name(type)); }

// Unwraps a getter's result; returns the error from the enclosing function.
#define ERGW_TRY(var, expr)                  \
  auto var##_result = (expr);                \
  if (!var##_result.ok()) return Error{var##_result.error()}; \
  auto var = std::move(var##_result).value();

template <typename T>
Result<T> required(Result<std::optional<T>> got, uint16_t type) {
  if (!got.ok()) return Error{got.error()};
  if (!*got) return Error{name(type) + ": required"};
  return **got;
}

Status check_proto(const MessageReader& m) {
  auto proto = m.u8(ERGW_IPSEC_ATTR_PROTO);
  if (!proto.ok()) return Error{proto.error()};
  if (*proto && **proto != kProtoEsp) {
    return Error{"proto: only 50 (ESP) is carried, got " + std::to_string(**proto)};
  }
  return Status::success();
}

Result<SaKey> sa_key(const MessageReader& m) {
  if (Status s = check_proto(m); !s.ok()) return Error{s.error()};
  SaKey key;
  ERGW_TRY(spi, required(m.u32(ERGW_IPSEC_ATTR_SPI), ERGW_IPSEC_ATTR_SPI));
  if (spi == 0) return Error{"spi: 0 is reserved (RFC 4303 2.1)"};
  key.spi = spi;
  ERGW_TRY(dst, required(m.address(ERGW_IPSEC_ATTR_DST), ERGW_IPSEC_ATTR_DST));
  key.dst = dst;
  ERGW_TRY(src, m.address(ERGW_IPSEC_ATTR_SRC));
  if (src) {
    if (src->family() != dst.family()) return Error{"src, dst: must be of the same address family"};
    key.src = *src;
  } else {
    key.src = dst.is_v4() ? IpAddress() : *IpAddress::parse("::");
  }
  ERGW_TRY(mark, m.u32x2(ERGW_IPSEC_ATTR_MARK));
  if (mark) key.mark = {(*mark)[0], (*mark)[1]};
  ERGW_TRY(if_id, m.u32(ERGW_IPSEC_ATTR_IF_ID));
  key.if_id = if_id.value_or(0);
  return key;
}

Result<esp::LifetimeLimits> limits(const MessageReader& m, uint16_t type) {
  ERGW_TRY(v, m.u64x3(type));
  esp::LifetimeLimits out;
  if (v) out = {(*v)[0], (*v)[1], (*v)[2]};
  return out;
}

Status set_algorithm(const MessageReader& m, esp::SaConfig& config) {
  ERGW_TRY(enc_alg, required(m.u16(ERGW_IPSEC_ATTR_ENC_ALG), ERGW_IPSEC_ATTR_ENC_ALG));
  ERGW_TRY(enc_key, required(m.bytes(ERGW_IPSEC_ATTR_ENC_KEY), ERGW_IPSEC_ATTR_ENC_KEY));
  ERGW_TRY(int_alg, m.u16(ERGW_IPSEC_ATTR_INT_ALG));
  ERGW_TRY(int_key, m.bytes(ERGW_IPSEC_ATTR_INT_KEY));
  const uint16_t integrity = int_alg.value_or(0);
  if (enc_alg == ERGW_IPSEC_ENCR_AES_GCM_16) {
    if (integrity != 0) return Error{"int_alg: AES-GCM takes no integrity algorithm (0), got " + std::to_string(integrity)};
    // RFC 4106 8.1: KEYMAT is the AES key followed by the 4-octet salt.
    if (enc_key.size() != 20 && enc_key.size() != 28 && enc_key.size() != 36) {
      return Error{"enc_key: AES-GCM needs 20, 28 or 36 octets (key + 4-octet salt), got " +
                   std::to_string(enc_key.size())};
    }
    config.algorithm = {esp::Encryption::aes_gcm_16, static_cast<uint16_t>((enc_key.size() - 4) * 8),
                        esp::Integrity::none};
    if (Status s = esp::set_gcm_keymat(config, enc_key); !s.ok()) return s;
    return Status::success();
  }
  if (enc_alg != ERGW_IPSEC_ENCR_AES_CBC) {
    return Error{"enc_alg: " + std::to_string(enc_alg) +
                 " is not carried; allowed: 20 (AES-GCM-16), 12 (AES-CBC)"};
  }
  if (enc_key.size() != 16 && enc_key.size() != 24 && enc_key.size() != 32) {
    return Error{"enc_key: AES-CBC needs 16, 24 or 32 octets, got " + std::to_string(enc_key.size())};
  }
  esp::Integrity mapped;
  switch (integrity) {
    case ERGW_IPSEC_AUTH_HMAC_SHA1_96: mapped = esp::Integrity::hmac_sha1_96; break;
    case ERGW_IPSEC_AUTH_HMAC_SHA2_256_128: mapped = esp::Integrity::hmac_sha256_128; break;
    case ERGW_IPSEC_AUTH_HMAC_SHA2_384_192: mapped = esp::Integrity::hmac_sha384_192; break;
    default:
      return Error{"int_alg: " + std::to_string(integrity) +
                   " is not carried with AES-CBC; allowed: 2 (HMAC-SHA1-96), 12 (HMAC-SHA2-256-128), "
                   "13 (HMAC-SHA2-384-192)"};
  }
  config.algorithm = {esp::Encryption::aes_cbc, static_cast<uint16_t>(enc_key.size() * 8), mapped};
  config.encryption_key.assign(enc_key.begin(), enc_key.end());
  if (!int_key || int_key->size() != config.algorithm.integrity_key_bytes()) {
    return Error{"int_key: " + esp::to_string(config.algorithm) + " needs " +
                 std::to_string(config.algorithm.integrity_key_bytes()) + " octets, got " +
                 std::to_string(int_key ? int_key->size() : 0)};
  }
  config.integrity_key.assign(int_key->begin(), int_key->end());
  return Status::success();
}

Result<TrafficSelector> one_selector(const MessageReader& m, uint16_t type) {
  ERGW_TRY(list, m.selectors(type));
  if (list.size() != 1) return Error{name(type) + ": exactly one required, got " + std::to_string(list.size())};
  return list.front();
}

}  // namespace

Result<GetSpiRequest> decode_get_spi(const MessageReader& m) {
  if (Status s = check_proto(m); !s.ok()) return Error{s.error()};
  ERGW_TRY(src, required(m.address(ERGW_IPSEC_ATTR_SRC), ERGW_IPSEC_ATTR_SRC));
  ERGW_TRY(dst, required(m.address(ERGW_IPSEC_ATTR_DST), ERGW_IPSEC_ATTR_DST));
  return GetSpiRequest{src, dst};
}

Result<SaKey> decode_sa_key(const MessageReader& m) { return sa_key(m); }

Result<AddSaRequest> decode_add_sa(const MessageReader& m) {
  AddSaRequest r;
  ERGW_TRY(key, sa_key(m));
  r.key = key;
  ERGW_TRY(src, required(m.address(ERGW_IPSEC_ATTR_SRC), ERGW_IPSEC_ATTR_SRC));
  (void)src;
  ERGW_TRY(reqid, m.u32(ERGW_IPSEC_ATTR_REQID));
  r.reqid = reqid.value_or(0);
  ERGW_TRY(mode, m.u8(ERGW_IPSEC_ATTR_MODE));
  if (mode && *mode != 2) return Error{"mode: only 2 (tunnel) is carried, got " + std::to_string(*mode)};
  ERGW_TRY(inbound, required(m.flag(ERGW_IPSEC_ATTR_INBOUND), ERGW_IPSEC_ATTR_INBOUND));
  ERGW_TRY(update, m.flag(ERGW_IPSEC_ATTR_UPDATE));
  ERGW_TRY(replay, m.flag(ERGW_IPSEC_ATTR_REPLAY));
  ERGW_TRY(initiator, m.flag(ERGW_IPSEC_ATTR_INITIATOR));
  r.update = update.value_or(false);
  r.replay = replay.value_or(false);
  r.initiator = initiator.value_or(false);
  ERGW_TRY(encap, m.flag(ERGW_IPSEC_ATTR_ENCAP));
  ERGW_TRY(sport, m.u16(ERGW_IPSEC_ATTR_SRC_PORT));
  ERGW_TRY(dport, m.u16(ERGW_IPSEC_ATTR_DST_PORT));
  ERGW_TRY(esn, m.flag(ERGW_IPSEC_ATTR_ESN));
  ERGW_TRY(window, m.u32(ERGW_IPSEC_ATTR_REPLAY_WINDOW));
  ERGW_TRY(soft, limits(m, ERGW_IPSEC_ATTR_LIFETIME_SOFT));
  ERGW_TRY(hard, limits(m, ERGW_IPSEC_ATTR_LIFETIME_HARD));
  ERGW_TRY(src_ts, m.selectors(ERGW_IPSEC_ATTR_SRC_TS));
  ERGW_TRY(dst_ts, m.selectors(ERGW_IPSEC_ATTR_DST_TS));
  r.src_ts = std::move(src_ts);
  r.dst_ts = std::move(dst_ts);
  ERGW_TRY(reported_bytes, m.u64(ERGW_IPSEC_ATTR_BYTES));
  ERGW_TRY(reported_packets, m.u64(ERGW_IPSEC_ATTR_PACKETS));
  if ((reported_bytes || reported_packets) && !r.replay) {
    return Error{"bytes, packets: only a replayed ADD_SA (replay 1) carries counters"};
  }
  r.reported_bytes = reported_bytes.value_or(0);
  r.reported_packets = reported_packets.value_or(0);

  esp::SaConfig& c = r.config;
  c.spi = key.spi;
  c.direction = inbound ? esp::Direction::inbound : esp::Direction::outbound;
  // As the packet travels: inbound SAs come from src (the peer) to dst (us).
  c.local = inbound ? key.dst : key.src;
  c.remote = inbound ? key.src : key.dst;
  if (encap.value_or(false)) {
    c.encapsulation = esp::Encapsulation::udp;
    r.src_port = sport.value_or(4500);
    r.dst_port = dport.value_or(4500);
    if (r.src_port == 0 || r.dst_port == 0) return Error{"src_port, dst_port: ESP-in-UDP needs ports 1-65535"};
    c.udp_local_port = inbound ? r.dst_port : r.src_port;
    c.udp_remote_port = inbound ? r.src_port : r.dst_port;
  }
  c.esn = esn.value_or(false);
  // charon asks for 0 when anti-replay is off; the kernel's default window is 32.
  c.replay_window = window.value_or(esp::kDefaultReplayWindow);
  if (c.replay_window != 0 && c.replay_window < 32) c.replay_window = 32;
  if (c.direction == esp::Direction::outbound) c.replay_window = 0;
  c.lifetime.soft = soft;
  c.lifetime.hard = hard;
  // The kernel accepts a soft limit above the hard one (the hard one simply
  // comes first); charon can produce one when its jitter exceeds the rekey
  // time. Behave like the kernel: the soft limit never lies past the hard one.
  const std::pair<uint64_t*, uint64_t> limits_in_order[] = {{&c.lifetime.soft.bytes, c.lifetime.hard.bytes},
                                                             {&c.lifetime.soft.packets, c.lifetime.hard.packets},
                                                             {&c.lifetime.soft.seconds, c.lifetime.hard.seconds}};
  for (const auto& [soft_limit, hard_limit] : limits_in_order) {
    if (hard_limit != 0 && *soft_limit > hard_limit) *soft_limit = hard_limit;
  }
  if (Status s = set_algorithm(m, c); !s.ok()) return Error{s.error()};
  if (Status s = esp::validate(c); !s.ok()) return Error{s.error()};
  return r;
}

Result<UpdateSaRequest> decode_update_sa(const MessageReader& m) {
  UpdateSaRequest r;
  ERGW_TRY(key, sa_key(m));
  r.key = key;
  ERGW_TRY(new_src, required(m.address(ERGW_IPSEC_ATTR_NEW_SRC), ERGW_IPSEC_ATTR_NEW_SRC));
  ERGW_TRY(new_dst, required(m.address(ERGW_IPSEC_ATTR_NEW_DST), ERGW_IPSEC_ATTR_NEW_DST));
  if (new_src.family() != new_dst.family()) return Error{"new_src, new_dst: must be of the same address family"};
  r.new_src = new_src;
  r.new_dst = new_dst;
  ERGW_TRY(encap, m.flag(ERGW_IPSEC_ATTR_NEW_ENCAP));
  r.new_encap = encap.value_or(false);
  ERGW_TRY(sport, m.u16(ERGW_IPSEC_ATTR_NEW_SRC_PORT));
  ERGW_TRY(dport, m.u16(ERGW_IPSEC_ATTR_NEW_DST_PORT));
  r.new_src_port = sport.value_or(4500);
  r.new_dst_port = dport.value_or(4500);
  if (r.new_encap && (r.new_src_port == 0 || r.new_dst_port == 0)) {
    return Error{"new_src_port, new_dst_port: ESP-in-UDP needs ports 1-65535"};
  }
  return r;
}

Result<PolicyRequest> decode_policy(const MessageReader& m, bool adding) {
  PolicyRequest r;
  ERGW_TRY(direction, required(m.u8(ERGW_IPSEC_ATTR_DIRECTION), ERGW_IPSEC_ATTR_DIRECTION));
  if (direction > 2) return Error{"direction: 0 (in), 1 (out) or 2 (fwd), got " + std::to_string(direction)};
  r.direction = static_cast<PolicyDirection>(direction);
  ERGW_TRY(src_ts, one_selector(m, ERGW_IPSEC_ATTR_SRC_TS));
  ERGW_TRY(dst_ts, one_selector(m, ERGW_IPSEC_ATTR_DST_TS));
  if (src_ts.prefix.is_v4() != dst_ts.prefix.is_v4()) return Error{"src_ts, dst_ts: must be of the same family"};
  r.src_ts = src_ts;
  r.dst_ts = dst_ts;
  ERGW_TRY(mark, m.u32x2(ERGW_IPSEC_ATTR_MARK));
  if (mark) r.mark = {(*mark)[0], (*mark)[1]};
  ERGW_TRY(if_id, m.u32(ERGW_IPSEC_ATTR_IF_ID));
  r.if_id = if_id.value_or(0);
  ERGW_TRY(type, m.u8(ERGW_IPSEC_ATTR_POLICY_TYPE));
  const uint8_t t = type.value_or(1);
  if (t < 1 || t > 3) return Error{"policy_type: 1 (ipsec), 2 (pass) or 3 (drop), got " + std::to_string(t)};
  r.type = static_cast<PolicyType>(t);
  ERGW_TRY(priority, m.u32(ERGW_IPSEC_ATTR_PRIORITY));
  r.priority = priority.value_or(0);
  ERGW_TRY(reqid, m.u32(ERGW_IPSEC_ATTR_REQID));
  r.reqid = reqid.value_or(0);
  ERGW_TRY(spi, m.u32(ERGW_IPSEC_ATTR_SPI));
  r.spi = spi.value_or(0);
  ERGW_TRY(src, m.address(ERGW_IPSEC_ATTR_SRC));
  ERGW_TRY(dst, m.address(ERGW_IPSEC_ATTR_DST));
  r.src = src;
  r.dst = dst;
  if (adding && r.type == PolicyType::ipsec && r.reqid == 0) return Error{"reqid: required for an ipsec policy"};
  return r;
}

Result<RouteRequest> decode_route(const MessageReader& m) {
  ERGW_TRY(prefix, one_selector(m, ERGW_IPSEC_ATTR_PREFIX));
  if (!prefix.any_protocol_and_port() && !(prefix.protocol == 0 && prefix.from_port == 0 && prefix.to_port == 0)) {
    return Error{"prefix: protocol and ports must be zero"};
  }
  ERGW_TRY(if_id, required(m.u32(ERGW_IPSEC_ATTR_IF_ID), ERGW_IPSEC_ATTR_IF_ID));
  if (if_id == 0) return Error{"if_id: a route needs an interface id 1-4294967295"};
  return RouteRequest{prefix.prefix, if_id};
}

Result<IkeSocketRequest> decode_ike_socket(const MessageReader& m) {
  ERGW_TRY(family, required(m.u8(ERGW_IPSEC_ATTR_FAMILY), ERGW_IPSEC_ATTR_FAMILY));
  if (family != 4 && family != 6) return Error{"family: 4 or 6, got " + std::to_string(family)};
  ERGW_TRY(port, required(m.u16(ERGW_IPSEC_ATTR_PORT), ERGW_IPSEC_ATTR_PORT));
  if (port == 0) return Error{"port: 1-65535"};
  return IkeSocketRequest{family, port};
}

#undef ERGW_TRY

}  // namespace ergw::xfrm::control
