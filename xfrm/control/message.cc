#include "xfrm/control/message.h"

#include <cstring>

namespace ergw::xfrm::control {
namespace {

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t load32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
uint64_t load64(const uint8_t* p) { return uint64_t{load32(p)} | (uint64_t{load32(p + 4)} << 32); }

void store16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void store32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void store64(std::vector<uint8_t>& out, uint64_t v) {
  store32(out, static_cast<uint32_t>(v));
  store32(out, static_cast<uint32_t>(v >> 32));
}

// Which attribute types may appear more than once.
bool repeatable(uint16_t type) {
  return type == ERGW_IPSEC_ATTR_SRC_TS || type == ERGW_IPSEC_ATTR_DST_TS || type == ERGW_IPSEC_ATTR_PORT ||
         type == ERGW_IPSEC_ATTR_FAMILY;
}

}  // namespace

std::string_view attribute_name(uint16_t type) {
  switch (type) {
    case ERGW_IPSEC_ATTR_SPI: return "spi";
    case ERGW_IPSEC_ATTR_PROTO: return "proto";
    case ERGW_IPSEC_ATTR_SRC: return "src";
    case ERGW_IPSEC_ATTR_DST: return "dst";
    case ERGW_IPSEC_ATTR_SRC_PORT: return "src_port";
    case ERGW_IPSEC_ATTR_DST_PORT: return "dst_port";
    case ERGW_IPSEC_ATTR_ENCAP: return "encap";
    case ERGW_IPSEC_ATTR_MARK: return "mark";
    case ERGW_IPSEC_ATTR_IF_ID: return "if_id";
    case ERGW_IPSEC_ATTR_REQID: return "reqid";
    case ERGW_IPSEC_ATTR_MODE: return "mode";
    case ERGW_IPSEC_ATTR_ENC_ALG: return "enc_alg";
    case ERGW_IPSEC_ATTR_ENC_KEY: return "enc_key";
    case ERGW_IPSEC_ATTR_INT_ALG: return "int_alg";
    case ERGW_IPSEC_ATTR_INT_KEY: return "int_key";
    case ERGW_IPSEC_ATTR_ESN: return "esn";
    case ERGW_IPSEC_ATTR_REPLAY_WINDOW: return "replay_window";
    case ERGW_IPSEC_ATTR_LIFETIME_SOFT: return "lifetime_soft";
    case ERGW_IPSEC_ATTR_LIFETIME_HARD: return "lifetime_hard";
    case ERGW_IPSEC_ATTR_INBOUND: return "inbound";
    case ERGW_IPSEC_ATTR_UPDATE: return "update";
    case ERGW_IPSEC_ATTR_INITIATOR: return "initiator";
    case ERGW_IPSEC_ATTR_SRC_TS: return "src_ts";
    case ERGW_IPSEC_ATTR_DST_TS: return "dst_ts";
    case ERGW_IPSEC_ATTR_DIRECTION: return "direction";
    case ERGW_IPSEC_ATTR_POLICY_TYPE: return "policy_type";
    case ERGW_IPSEC_ATTR_PRIORITY: return "priority";
    case ERGW_IPSEC_ATTR_BYTES: return "bytes";
    case ERGW_IPSEC_ATTR_PACKETS: return "packets";
    case ERGW_IPSEC_ATTR_USE_TIME: return "use_time";
    case ERGW_IPSEC_ATTR_HARD: return "hard";
    case ERGW_IPSEC_ATTR_ERROR_TEXT: return "error_text";
    case ERGW_IPSEC_ATTR_NAME: return "name";
    case ERGW_IPSEC_ATTR_NEW_SRC: return "new_src";
    case ERGW_IPSEC_ATTR_NEW_DST: return "new_dst";
    case ERGW_IPSEC_ATTR_NEW_SRC_PORT: return "new_src_port";
    case ERGW_IPSEC_ATTR_NEW_DST_PORT: return "new_dst_port";
    case ERGW_IPSEC_ATTR_NEW_ENCAP: return "new_encap";
    case ERGW_IPSEC_ATTR_PREFIX: return "prefix";
    case ERGW_IPSEC_ATTR_REPLAY: return "replay";
    case ERGW_IPSEC_ATTR_STATUS_JSON: return "status_json";
    case ERGW_IPSEC_ATTR_FAMILY: return "family";
    case ERGW_IPSEC_ATTR_PORT: return "port";
    case ERGW_IPSEC_ATTR_VERSION_TEXT: return "version_text";
    case ERGW_IPSEC_ATTR_INSTANCE: return "instance";
    default: return {};
  }
}

std::string_view message_name(uint16_t type) {
  switch (type) {
    case ERGW_IPSEC_MSG_HELLO: return "hello";
    case ERGW_IPSEC_MSG_GET_SPI: return "get_spi";
    case ERGW_IPSEC_MSG_ADD_SA: return "add_sa";
    case ERGW_IPSEC_MSG_UPDATE_SA: return "update_sa";
    case ERGW_IPSEC_MSG_QUERY_SA: return "query_sa";
    case ERGW_IPSEC_MSG_DEL_SA: return "del_sa";
    case ERGW_IPSEC_MSG_FLUSH_SAS: return "flush_sas";
    case ERGW_IPSEC_MSG_ADD_POLICY: return "add_policy";
    case ERGW_IPSEC_MSG_DEL_POLICY: return "del_policy";
    case ERGW_IPSEC_MSG_FLUSH_POLICIES: return "flush_policies";
    case ERGW_IPSEC_MSG_SUBSCRIBE: return "subscribe";
    case ERGW_IPSEC_MSG_STATUS: return "status";
    case ERGW_IPSEC_MSG_ADD_ROUTE: return "add_route";
    case ERGW_IPSEC_MSG_DEL_ROUTE: return "del_route";
    case ERGW_IPSEC_MSG_IKE_SOCKET: return "ike_socket";
    case ERGW_IPSEC_MSG_RELEASE_IKE_PORTS: return "release_ike_ports";
    case ERGW_IPSEC_MSG_EXPIRE: return "expire";
    case ERGW_IPSEC_MSG_MAPPING: return "mapping";
    default: return {};
  }
}

uint32_t peek_message_length(std::span<const uint8_t, 4> first) { return load32(first.data()); }

Result<MessageReader> MessageReader::parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < ERGW_IPSEC_HEADER_BYTES) return Error{"message shorter than its 16-octet header"};
  MessageReader reader;
  const uint8_t* p = bytes.data();
  reader.header_.length = load32(p);
  reader.header_.version = load16(p + 4);
  reader.header_.type = load16(p + 6);
  reader.header_.sequence = load32(p + 8);
  reader.header_.status = static_cast<int32_t>(load32(p + 12));
  if (reader.header_.length != bytes.size()) {
    return Error{"header length " + std::to_string(reader.header_.length) + " differs from the " +
                 std::to_string(bytes.size()) + " octets received"};
  }
  if (bytes.size() > ERGW_IPSEC_MAX_MESSAGE) return Error{"message longer than 65536 octets"};
  if (reader.header_.version != ERGW_IPSEC_PROTOCOL_VERSION) {
    return Error{"protocol version " + std::to_string(reader.header_.version) + " (this side speaks " +
                 std::to_string(ERGW_IPSEC_PROTOCOL_VERSION) + ")"};
  }
  size_t offset = ERGW_IPSEC_HEADER_BYTES;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES) {
      return Error{"attribute header cut off at octet " + std::to_string(offset)};
    }
    const uint16_t type = load16(p + offset);
    const uint16_t length = load16(p + offset + 2);
    offset += ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES;
    if (length > bytes.size() - offset) {
      return Error{"attribute " + std::to_string(type) + " longer than the message"};
    }
    if (attribute_name(type).empty()) return Error{"unknown attribute type " + std::to_string(type)};
    if (!repeatable(type) && reader.find(type)) {
      return Error{"attribute " + std::string(attribute_name(type)) + " given twice"};
    }
    reader.attributes_.push_back({type, bytes.subspan(offset, length)});
    const size_t padded = (size_t{length} + 3) & ~size_t{3};
    if (padded > bytes.size() - offset) {
      // The last attribute's padding may be missing only if nothing follows.
      if (offset + length != bytes.size()) return Error{"attribute padding cut off"};
      offset = bytes.size();
    } else {
      offset += padded;
    }
  }
  return reader;
}

std::optional<MessageReader::Attribute> MessageReader::find(uint16_t type) const {
  for (const Attribute& a : attributes_) {
    if (a.type == type) return a;
  }
  return std::nullopt;
}

Result<std::span<const uint8_t>> MessageReader::fixed(const Attribute& attribute, size_t length) const {
  if (attribute.value.size() != length) {
    return Error{std::string(attribute_name(attribute.type)) + ": must be " + std::to_string(length) +
                 " octets, got " + std::to_string(attribute.value.size())};
  }
  return attribute.value;
}

#define ERGW_GET_FIXED(type, n)            \
  auto attr = find(type);                  \
  if (!attr) return {std::nullopt};       \
  auto v = fixed(*attr, n);                \
  if (!v.ok()) return Error{v.error()};   \
  const uint8_t* p = v->data();

Result<std::optional<uint8_t>> MessageReader::u8(uint16_t type) const {
  ERGW_GET_FIXED(type, 1)
  return std::optional<uint8_t>(p[0]);
}
Result<std::optional<uint16_t>> MessageReader::u16(uint16_t type) const {
  ERGW_GET_FIXED(type, 2)
  return std::optional<uint16_t>(load16(p));
}
Result<std::optional<uint32_t>> MessageReader::u32(uint16_t type) const {
  ERGW_GET_FIXED(type, 4)
  return std::optional<uint32_t>(load32(p));
}
Result<std::optional<uint64_t>> MessageReader::u64(uint16_t type) const {
  ERGW_GET_FIXED(type, 8)
  return std::optional<uint64_t>(load64(p));
}
Result<std::optional<std::array<uint64_t, 3>>> MessageReader::u64x3(uint16_t type) const {
  ERGW_GET_FIXED(type, 24)
  return std::optional<std::array<uint64_t, 3>>(std::array<uint64_t, 3>{load64(p), load64(p + 8), load64(p + 16)});
}
Result<std::optional<std::array<uint32_t, 2>>> MessageReader::u32x2(uint16_t type) const {
  ERGW_GET_FIXED(type, 8)
  return std::optional<std::array<uint32_t, 2>>(std::array<uint32_t, 2>{load32(p), load32(p + 4)});
}
#undef ERGW_GET_FIXED

Result<std::optional<bool>> MessageReader::flag(uint16_t type) const {
  auto v = u8(type);
  if (!v.ok()) return Error{v.error()};
  if (!*v) return std::optional<bool>();
  if (**v > 1) return Error{std::string(attribute_name(type)) + ": must be 0 or 1"};
  return std::optional<bool>(**v == 1);
}

Result<std::optional<IpAddress>> MessageReader::address(uint16_t type) const {
  auto attr = find(type);
  if (!attr) return std::optional<IpAddress>();
  auto address = IpAddress::from_bytes(attr->value.data(), attr->value.size());
  if (!address) {
    return Error{std::string(attribute_name(type)) + ": an address is 4 (IPv4) or 16 (IPv6) octets, got " +
                 std::to_string(attr->value.size())};
  }
  return std::optional<IpAddress>(*address);
}

Result<std::optional<std::span<const uint8_t>>> MessageReader::bytes(uint16_t type) const {
  auto attr = find(type);
  if (!attr) return std::optional<std::span<const uint8_t>>();
  return std::optional<std::span<const uint8_t>>(attr->value);
}

Result<std::optional<std::string_view>> MessageReader::text(uint16_t type) const {
  auto attr = find(type);
  if (!attr) return std::optional<std::string_view>();
  return std::optional<std::string_view>(
      std::string_view(reinterpret_cast<const char*>(attr->value.data()), attr->value.size()));
}

Result<std::vector<TrafficSelector>> MessageReader::selectors(uint16_t type) const {
  std::vector<TrafficSelector> out;
  const std::string name(attribute_name(type));
  for (const Attribute& a : attributes_) {
    if (a.type != type) continue;
    if (a.value.size() != 8 + 4 && a.value.size() != 8 + 16) {
      return Error{name + ": a selector is 12 (IPv4) or 24 (IPv6) octets, got " + std::to_string(a.value.size())};
    }
    const uint8_t* p = a.value.data();
    TrafficSelector ts;
    ts.protocol = p[0];
    const int length = p[1];
    ts.from_port = load16(p + 2);
    ts.to_port = load16(p + 4);
    auto network = IpAddress::from_bytes(p + 8, a.value.size() - 8);
    if (length > network->max_prefix_length()) {
      return Error{name + ": prefix length " + std::to_string(length) + " exceeds " +
                   std::to_string(network->max_prefix_length())};
    }
    if (ts.from_port > ts.to_port) return Error{name + ": port range from > to"};
    // Host bits are cleared, as the kernel does for selectors.
    ts.prefix = IpPrefix(network->masked(length), length);
    out.push_back(ts);
  }
  return out;
}

MessageWriter::MessageWriter(uint16_t type, uint32_t sequence, int32_t status) {
  buffer_.reserve(256);
  store32(buffer_, 0);
  store16(buffer_, ERGW_IPSEC_PROTOCOL_VERSION);
  store16(buffer_, type);
  store32(buffer_, sequence);
  store32(buffer_, static_cast<uint32_t>(status));
}

void MessageWriter::attribute(uint16_t type, const uint8_t* value, size_t length) {
  store16(buffer_, type);
  store16(buffer_, static_cast<uint16_t>(length));
  buffer_.insert(buffer_.end(), value, value + length);
  while (buffer_.size() % 4 != 0) buffer_.push_back(0);
}

MessageWriter& MessageWriter::u8(uint16_t type, uint8_t value) {
  attribute(type, &value, 1);
  return *this;
}
MessageWriter& MessageWriter::u16(uint16_t type, uint16_t value) {
  std::vector<uint8_t> v;
  store16(v, value);
  attribute(type, v.data(), v.size());
  return *this;
}
MessageWriter& MessageWriter::u32(uint16_t type, uint32_t value) {
  std::vector<uint8_t> v;
  store32(v, value);
  attribute(type, v.data(), v.size());
  return *this;
}
MessageWriter& MessageWriter::u64(uint16_t type, uint64_t value) {
  std::vector<uint8_t> v;
  store64(v, value);
  attribute(type, v.data(), v.size());
  return *this;
}
MessageWriter& MessageWriter::u64x3(uint16_t type, const std::array<uint64_t, 3>& value) {
  std::vector<uint8_t> v;
  for (uint64_t x : value) store64(v, x);
  attribute(type, v.data(), v.size());
  return *this;
}
MessageWriter& MessageWriter::u32x2(uint16_t type, const std::array<uint32_t, 2>& value) {
  std::vector<uint8_t> v;
  for (uint32_t x : value) store32(v, x);
  attribute(type, v.data(), v.size());
  return *this;
}
MessageWriter& MessageWriter::address(uint16_t type, const IpAddress& value) {
  attribute(type, value.bytes().data(), value.is_v4() ? 4 : 16);
  return *this;
}
MessageWriter& MessageWriter::bytes(uint16_t type, std::span<const uint8_t> value) {
  attribute(type, value.data(), value.size());
  return *this;
}
MessageWriter& MessageWriter::text(uint16_t type, std::string_view value) {
  const size_t room = ERGW_IPSEC_MAX_MESSAGE - 8 - buffer_.size();
  if (value.size() > room) value = value.substr(0, room);
  attribute(type, reinterpret_cast<const uint8_t*>(value.data()), value.size());
  return *this;
}
MessageWriter& MessageWriter::selector(uint16_t type, const TrafficSelector& value) {
  std::vector<uint8_t> v{value.protocol, static_cast<uint8_t>(value.prefix.length())};
  store16(v, value.from_port);
  store16(v, value.to_port);
  store16(v, 0);
  const IpAddress& a = value.prefix.network();
  v.insert(v.end(), a.bytes().begin(), a.bytes().begin() + (a.is_v4() ? 4 : 16));
  attribute(type, v.data(), v.size());
  return *this;
}

std::vector<uint8_t> MessageWriter::finish() {
  const auto length = static_cast<uint32_t>(buffer_.size());
  for (int i = 0; i < 4; ++i) buffer_[static_cast<size_t>(i)] = static_cast<uint8_t>(length >> (8 * i));
  return std::move(buffer_);
}

}  // namespace ergw::xfrm::control
