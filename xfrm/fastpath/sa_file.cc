#include "xfrm/fastpath/sa_file.h"

#include "common/parse_json.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace ergw::xfrm::fastpath {
namespace {

using Json = nlohmann::json;

class Parser {
 public:
  explicit Parser(bool allow_null) : allow_null_(allow_null) {}
  std::vector<std::string> errors;

  void fail(const std::string& path, const std::string& message) { errors.push_back(path + ": " + message); }

  // Refuses members outside `allowed` so that typos ("replay_windw") do not
  // silently fall back to defaults.
  void only_fields(const Json& object, const std::string& path, std::initializer_list<std::string_view> allowed) {
    for (auto it = object.begin(); it != object.end(); ++it) {
      bool known = false;
      for (std::string_view name : allowed) known = known || it.key() == name;
      if (!known) {
        std::string list;
        for (std::string_view name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
        fail(path + "." + it.key(), "unknown field; allowed: " + list);
      }
    }
  }

  const Json* member(const Json& object, const std::string& path, const char* name, bool required) {
    auto it = object.find(name);
    if (it == object.end()) {
      if (required) fail(path + "." + name, "missing");
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> string_field(const Json& object, const std::string& path, const char* name,
                                          bool required) {
    const Json* value = member(object, path, name, required);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) {
      fail(path + "." + name, "must be a string");
      return std::nullopt;
    }
    return value->get<std::string>();
  }

  std::optional<uint64_t> uint_field(const Json& object, const std::string& path, const char* name, uint64_t max) {
    const Json* value = member(object, path, name, false);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number_unsigned() || value->get<uint64_t>() > max) {
      fail(path + "." + name, "must be an integer from 0 to " + std::to_string(max));
      return std::nullopt;
    }
    return value->get<uint64_t>();
  }

  std::optional<bool> bool_field(const Json& object, const std::string& path, const char* name) {
    const Json* value = member(object, path, name, false);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) {
      fail(path + "." + name, "must be true or false");
      return std::nullopt;
    }
    return value->get<bool>();
  }

  // Hex key, "0x" optional. The message states lengths only, never the value.
  std::optional<std::vector<uint8_t>> key_field(const Json& object, const std::string& path) {
    std::optional<std::string> text = string_field(object, path, "key", true);
    if (!text) return std::nullopt;
    std::string_view hex = *text;
    if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
    if (hex.empty() || hex.size() % 2 != 0) {
      fail(path + ".key", "must be an even number of hex digits (optionally prefixed 0x)");
      return std::nullopt;
    }
    std::vector<uint8_t> bytes;
    bytes.reserve(hex.size() / 2);
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    for (size_t i = 0; i < hex.size(); i += 2) {
      const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
      if (hi < 0 || lo < 0) {
        fail(path + ".key", "contains a character that is not a hex digit");
        return std::nullopt;
      }
      bytes.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    return bytes;
  }

  std::optional<uint32_t> spi_field(const Json& object, const std::string& path) {
    const Json* value = member(object, path, "spi", true);
    if (value == nullptr) return std::nullopt;
    uint64_t spi = 0;
    bool ok = false;
    if (value->is_number_unsigned()) {
      spi = value->get<uint64_t>();
      ok = true;
    } else if (value->is_string()) {
      const std::string text = value->get<std::string>();
      std::string_view digits = text;
      int base = 10;
      if (digits.starts_with("0x") || digits.starts_with("0X")) {
        digits.remove_prefix(2);
        base = 16;
      }
      ok = !digits.empty() && digits.size() <= 10;
      for (char c : digits) {
        const int v = (c >= '0' && c <= '9') ? c - '0'
                      : (base == 16 && c >= 'a' && c <= 'f') ? c - 'a' + 10
                      : (base == 16 && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                             : -1;
        if (v < 0) ok = false;
        spi = spi * static_cast<uint64_t>(base) + static_cast<uint64_t>(v < 0 ? 0 : v);
      }
    }
    // RFC 4303 §2.1: 0 is reserved; RFC 3948 §2.2 relies on it for the IKE
    // marker. 1-255 are reserved by IANA for future use.
    if (!ok || spi > UINT32_MAX || spi < 256) {
      fail(path + ".spi", "must be a 32-bit SPI from 256 to 0xffffffff (number, \"0x...\" hex or decimal string)");
      return std::nullopt;
    }
    return static_cast<uint32_t>(spi);
  }

  std::optional<IpAddress> address_field(const Json& object, const std::string& path, const char* name) {
    std::optional<std::string> text = string_field(object, path, name, true);
    if (!text) return std::nullopt;
    std::optional<IpAddress> address = IpAddress::parse(*text);
    if (!address) fail(path + "." + name, "must be an IPv4 or IPv6 address");
    return address;
  }

  std::vector<IpPrefix> prefix_list(const Json& object, const std::string& path, const char* name) {
    std::vector<IpPrefix> prefixes;
    const Json* value = member(object, path, name, false);
    if (value == nullptr) return prefixes;
    if (!value->is_array()) {
      fail(path + "." + name, "must be a list of prefixes such as [\"10.0.2.0/24\", \"fd00::/64\"]");
      return prefixes;
    }
    for (size_t i = 0; i < value->size(); ++i) {
      const std::string item_path = path + "." + name + "[" + std::to_string(i) + "]";
      const Json& item = (*value)[i];
      std::optional<IpPrefix> prefix = item.is_string() ? IpPrefix::parse(item.get<std::string>()) : std::nullopt;
      if (!prefix) {
        fail(item_path, "must be a prefix such as \"10.0.2.0/24\" with no host bits set");
      } else {
        prefixes.push_back(*prefix);
      }
    }
    return prefixes;
  }

  void parse_limits(const Json& object, const std::string& path, esp::LifetimeLimits& limits) {
    if (!object.is_object()) {
      fail(path, "must be an object with bytes, packets, seconds (0 = no limit)");
      return;
    }
    only_fields(object, path, {"bytes", "packets", "seconds"});
    limits.bytes = uint_field(object, path, "bytes", UINT64_MAX).value_or(0);
    limits.packets = uint_field(object, path, "packets", UINT64_MAX).value_or(0);
    limits.seconds = uint_field(object, path, "seconds", UINT64_MAX).value_or(0);
  }

  void parse_algorithm(const Json& sa, const std::string& path, esp::SaConfig& config) {
    const Json* aead = member(sa, path, "aead", false);
    const Json* enc = member(sa, path, "enc", false);
    const Json* auth = member(sa, path, "auth", false);
    if ((aead != nullptr) == (enc != nullptr)) {
      fail(path, "needs exactly one of \"aead\" (AES-GCM) or \"enc\" + \"auth\" (AES-CBC + HMAC)");
      return;
    }
    if (aead != nullptr) {
      const std::string p = path + ".aead";
      if (auth != nullptr) fail(path + ".auth", "not allowed with aead (GCM authenticates)");
      if (!aead->is_object()) return fail(p, "must be an object with name, key, icv_bits");
      only_fields(*aead, p, {"name", "key", "icv_bits"});
      std::optional<std::string> name = string_field(*aead, p, "name", true);
      if (name && *name != "rfc4106(gcm(aes))") fail(p + ".name", "must be \"rfc4106(gcm(aes))\"");
      std::optional<uint64_t> icv = uint_field(*aead, p, "icv_bits", 1024);
      if (icv && *icv != 128) fail(p + ".icv_bits", "must be 128 (RFC 4106 16-octet ICV; 64 and 96 are refused)");
      std::optional<std::vector<uint8_t>> keymat = key_field(*aead, p);
      if (!keymat) return;
      // RFC 4106 §8.1: AES key followed by the 4-octet salt.
      if (keymat->size() != 20 && keymat->size() != 28 && keymat->size() != 36) {
        fail(p + ".key", "must be 20, 28 or 36 octets (AES-128/192/256 key + 4-octet salt, RFC 4106 8.1); got " +
                             std::to_string(keymat->size()));
        return;
      }
      config.algorithm.encryption = esp::Encryption::aes_gcm_16;
      config.algorithm.integrity = esp::Integrity::none;
      config.algorithm.key_bits = static_cast<uint16_t>((keymat->size() - 4) * 8);
      Status split = esp::set_gcm_keymat(config, *keymat);
      if (!split.ok()) fail(p + ".key", split.error());
      return;
    }
    const std::string pe = path + ".enc";
    if (!enc->is_object()) return fail(pe, "must be an object with name, key");
    if (allow_null_ && enc->contains("name") && (*enc)["name"] == "ecb(cipher_null)") {
      only_fields(*enc, pe, {"name"});
      if (auth != nullptr) fail(path + ".auth", "not allowed with the null transform");
      config.algorithm = {esp::Encryption::null_cleartext, 0, esp::Integrity::none};
      config.allow_null = true;
      return;
    }
    only_fields(*enc, pe, {"name", "key"});
    std::optional<std::string> ename = string_field(*enc, pe, "name", true);
    if (ename && *ename != "cbc(aes)") fail(pe + ".name", "must be \"cbc(aes)\"");
    std::optional<std::vector<uint8_t>> ekey = key_field(*enc, pe);
    if (ekey) {
      if (ekey->size() != 16 && ekey->size() != 24 && ekey->size() != 32) {
        fail(pe + ".key", "must be 16, 24 or 32 octets (AES-128/192/256); got " + std::to_string(ekey->size()));
      } else {
        config.algorithm.encryption = esp::Encryption::aes_cbc;
        config.algorithm.key_bits = static_cast<uint16_t>(ekey->size() * 8);
        config.encryption_key = std::move(*ekey);
      }
    }
    const std::string pa = path + ".auth";
    if (auth == nullptr) return fail(pa, "missing (cbc(aes) needs an integrity algorithm)");
    if (!auth->is_object()) return fail(pa, "must be an object with name, key, trunc_bits");
    only_fields(*auth, pa, {"name", "key", "trunc_bits"});
    std::optional<std::string> aname = string_field(*auth, pa, "name", true);
    std::optional<uint64_t> trunc = uint_field(*auth, pa, "trunc_bits", 1024);
    std::optional<std::vector<uint8_t>> akey = key_field(*auth, pa);
    if (!aname) return;
    struct Choice {
      const char* name;
      esp::Integrity integrity;
      uint64_t trunc;
      size_t key;
    };
    static constexpr Choice kChoices[] = {
        {"hmac(sha1)", esp::Integrity::hmac_sha1_96, 96, 20},        // RFC 2404
        {"hmac(sha256)", esp::Integrity::hmac_sha256_128, 128, 32},  // RFC 4868
        {"hmac(sha384)", esp::Integrity::hmac_sha384_192, 192, 48},  // RFC 4868
    };
    const Choice* choice = nullptr;
    for (const Choice& c : kChoices) {
      if (*aname == c.name) choice = &c;
    }
    if (choice == nullptr) return fail(pa + ".name", "must be one of hmac(sha1), hmac(sha256), hmac(sha384)");
    if (trunc && *trunc != choice->trunc) {
      // The classic trap: Linux/KAME once used HMAC-SHA-256-96 (draft-00);
      // RFC 4868 truncates to 128 and peers disagree silently otherwise.
      fail(pa + ".trunc_bits", "must be " + std::to_string(choice->trunc) + " for " + choice->name);
    }
    if (akey && akey->size() != choice->key) {
      fail(pa + ".key", "must be " + std::to_string(choice->key) + " octets for " + choice->name + "; got " +
                            std::to_string(akey->size()));
    } else if (akey) {
      config.integrity_key = std::move(*akey);
    }
    config.algorithm.integrity = choice->integrity;
  }

  void parse_encap(const Json& sa, const std::string& path, esp::SaConfig& config, bool outbound) {
    const Json* encap = member(sa, path, "encap", false);
    config.encapsulation = esp::Encapsulation::raw_esp;
    if (encap == nullptr) return;
    const std::string p = path + ".encap";
    if (!encap->is_object()) return fail(p, "must be an object {\"type\": \"espinudp\"|\"none\", \"sport\", \"dport\"}");
    only_fields(*encap, p, {"type", "sport", "dport"});
    std::optional<std::string> type = string_field(*encap, p, "type", true);
    if (!type) return;
    if (*type == "none") {
      if (encap->contains("sport") || encap->contains("dport")) fail(p, "sport/dport only with type espinudp");
      return;
    }
    if (*type != "espinudp") return fail(p + ".type", "must be \"espinudp\" (RFC 3948) or \"none\" (IP protocol 50)");
    config.encapsulation = esp::Encapsulation::udp;
    const uint16_t sport = static_cast<uint16_t>(port(*encap, p, "sport"));
    const uint16_t dport = static_cast<uint16_t>(port(*encap, p, "dport"));
    // Like ip xfrm: sport/dport are the ports of the ESP packet as sent by src.
    config.udp_local_port = outbound ? sport : dport;
    config.udp_remote_port = outbound ? dport : sport;
  }

  uint64_t port(const Json& object, const std::string& path, const char* name) {
    const Json* value = member(object, path, name, false);
    if (value == nullptr) return 4500;
    if (!value->is_number_unsigned() || value->get<uint64_t>() == 0 || value->get<uint64_t>() > 65535) {
      fail(path + "." + name, "must be a port from 1 to 65535 (default 4500)");
      return 4500;
    }
    return value->get<uint64_t>();
  }

  std::optional<StaticSa> parse_sa(const Json& sa, const std::string& path) {
    if (!sa.is_object()) {
      fail(path, "must be an object");
      return std::nullopt;
    }
    const size_t errors_before = errors.size();
    only_fields(sa, path,
                {"name", "dir", "src", "dst", "spi", "encap", "aead", "enc", "auth", "esn", "replay_window",
                 "lifetime", "sel"});
    StaticSa result;
    result.name = string_field(sa, path, "name", false).value_or(path);
    esp::SaConfig& config = result.config;
    std::optional<std::string> dir = string_field(sa, path, "dir", true);
    bool outbound = false;
    if (dir) {
      if (*dir == "out") {
        outbound = true;
      } else if (*dir != "in") {
        fail(path + ".dir", "must be \"in\" or \"out\"");
      }
    }
    config.direction = outbound ? esp::Direction::outbound : esp::Direction::inbound;
    if (std::optional<uint32_t> spi = spi_field(sa, path)) config.spi = *spi;
    std::optional<IpAddress> src = address_field(sa, path, "src");
    std::optional<IpAddress> dst = address_field(sa, path, "dst");
    if (src && dst) {
      if (src->family() != dst->family()) fail(path + ".dst", "must be the same address family as src");
      // ip xfrm semantics: src/dst are the outer addresses as the packet travels.
      config.local = outbound ? *src : *dst;
      config.remote = outbound ? *dst : *src;
    }
    parse_encap(sa, path, config, outbound);
    parse_algorithm(sa, path, config);
    config.esn = bool_field(sa, path, "esn").value_or(false);
    config.replay_window = static_cast<uint32_t>(
        uint_field(sa, path, "replay_window", esp::kMaxReplayWindow).value_or(esp::kDefaultReplayWindow));
    if (const Json* lifetime = member(sa, path, "lifetime", false)) {
      const std::string p = path + ".lifetime";
      if (!lifetime->is_object()) {
        fail(p, "must be an object with soft and/or hard");
      } else {
        only_fields(*lifetime, p, {"soft", "hard"});
        if (lifetime->contains("soft")) parse_limits((*lifetime)["soft"], p + ".soft", config.lifetime.soft);
        if (lifetime->contains("hard")) parse_limits((*lifetime)["hard"], p + ".hard", config.lifetime.hard);
      }
    }
    if (const Json* sel = member(sa, path, "sel", false)) {
      const std::string p = path + ".sel";
      if (!sel->is_object()) {
        fail(p, "must be an object {\"src\": [prefixes], \"dst\": [prefixes]}");
      } else {
        only_fields(*sel, p, {"src", "dst"});
        result.selector_src = prefix_list(*sel, p, "src");
        result.selector_dst = prefix_list(*sel, p, "dst");
      }
    }
    if (errors.size() != errors_before) return std::nullopt;
    // The engine's own checks (lengths, ESN needs a window, soft <= hard, ...).
    Status valid = esp::validate(config);
    if (!valid.ok()) {
      fail(path, valid.error());
      return std::nullopt;
    }
    return result;
  }

 private:
  bool allow_null_ = false;
};

}  // namespace

Result<SaFile> parse_sa_file(std::string_view json_text, bool allow_null) {
  JsonSyntaxError syntax;
  auto parsed = parse_json(json_text, &syntax);
  if (!parsed) {
    // Only the position: the text there may be key material.
    return Error{"SA file is not valid JSON (" + syntax.what + " near byte " + std::to_string(syntax.byte) + ")"};
  }
  Json root = std::move(*parsed);
  Parser parser(allow_null);
  SaFile file;
  if (!root.is_object()) return Error{"SA file: the top level must be an object {\"version\": 1, \"sas\": [...]}"};
  parser.only_fields(root, "$", {"version", "sas"});
  if (std::optional<uint64_t> version = parser.uint_field(root, "$", "version", UINT32_MAX); version && *version != 1) {
    parser.fail("$.version", "must be 1");
  }
  const Json* sas = parser.member(root, "$", "sas", true);
  if (sas != nullptr && (!sas->is_array() || sas->empty())) parser.fail("$.sas", "must be a non-empty list of SAs");
  if (sas != nullptr && sas->is_array()) {
    std::set<uint32_t> inbound_spis;
    for (size_t i = 0; i < sas->size(); ++i) {
      const std::string path = "sas[" + std::to_string(i) + "]";
      std::optional<StaticSa> sa = parser.parse_sa((*sas)[i], path);
      if (!sa) continue;
      if (sa->config.direction == esp::Direction::inbound && !inbound_spis.insert(sa->config.spi).second) {
        parser.fail(path + ".spi", "inbound SPI used twice");
        continue;
      }
      file.sas.push_back(std::move(*sa));
    }
  }
  if (!parser.errors.empty()) {
    std::string message;
    for (const std::string& e : parser.errors) message += (message.empty() ? "" : "\n") + e;
    return Error{message};
  }
  return file;
}

Result<SaFile> load_sa_file(const std::string& path, bool allow_null) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read SA file " + path};
  std::ostringstream text;
  text << in.rdbuf();
  Result<SaFile> file = parse_sa_file(text.str(), allow_null);
  if (!file.ok()) return Error{path + ":\n" + file.error()};
  return file;
}

}  // namespace ergw::xfrm::fastpath
