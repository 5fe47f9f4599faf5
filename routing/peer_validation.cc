#include "routing/peer_validation.h"

#include <algorithm>
#include <set>

namespace ergw::routing {
namespace {

// TCP MD5 keys are at most 80 bytes (Linux TCP_MD5SIG_MAXKEYLEN; RFC 2385 sets no limit).
constexpr size_t kMaxTcpMd5KeyLength = 80;

// Kernel routing table ids that belong to the kernel itself (rtnetlink.h:
// RT_TABLE_UNSPEC 0, RT_TABLE_DEFAULT 253, RT_TABLE_MAIN 254, RT_TABLE_LOCAL 255).
bool is_system_table(uint32_t table) { return table == 0 || table == 253 || table == 254 || table == 255; }

// BIRD symbols: a letter or '_' then letters, digits, '_' (cf-lex.l); ergw
// adds the "ergw_" prefix, so the name itself may start with a digit.
bool is_bird_symbol_tail(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// BIRD 2.0.12 strings have no escapes: a '"' or a newline ends or breaks them.
bool is_bird_string_safe(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f && c != '"' && c != '\\';
  });
}

class Checker {
 public:
  Checker(std::string prefix, Diagnostics& out) : prefix_(std::move(prefix) + "."), out_(out) {}
  void error(const std::string& field, std::string message) { out_.error(prefix_ + field, std::move(message)); }

 private:
  std::string prefix_;
  Diagnostics& out_;
};

std::string list_field(const char* name, size_t index) { return std::string(name) + "[" + std::to_string(index) + "]"; }

void check_name(const BgpPeer& peer, Checker& c) {
  if (peer.name.empty() || peer.name.size() > 32 || !is_bird_symbol_tail(peer.name)) {
    c.error("name", "\"" + (is_bird_string_safe(peer.name) ? peer.name : std::string("<unprintable>")) +
                        "\" is not allowed; use 1-32 characters from a-z, A-Z, 0-9 and '_'");
  }
}

void check_asns(const BgpPeer& peer, Checker& c) {
  // BIRD refuses AS 0; the other values are the policy validator's business.
  if (peer.local_asn == 0) c.error("local_asn", "0 is not an AS number; allowed: 1-4294967295");
  if (peer.peer_asn == 0) c.error("peer_asn", "0 is not an AS number; allowed: 1-4294967295");
}

void check_ipv4(const IpAddress& a, const char* field, Checker& c) {
  // ergw gives BIRD one ipv4 channel per session.
  if (!a.is_v4()) c.error(field, a.to_string() + " is IPv6; allowed: an IPv4 address");
}

void check_addresses(const BgpPeer& peer, Checker& c) {
  check_ipv4(peer.peer_address, "peer_address", c);
  check_ipv4(peer.local_address, "local_address", c);
  if (peer.source_address) check_ipv4(*peer.source_address, "source_address", c);
  if (peer.tunnel_next_hop) check_ipv4(*peer.tunnel_next_hop, "tunnel_next_hop", c);
  if (peer.peer_address == peer.local_address) {
    c.error("local_address", peer.local_address.to_string() + " equals peer_address; the two ends need different addresses");
  }
}

void check_session(const BgpPeer& peer, Checker& c) {
  // BIRD: hold time 3-65535, keepalive 1-65535 and shorter than the hold time.
  if (peer.hold_time_seconds < 3 || peer.hold_time_seconds > 65535) {
    c.error("hold_time_seconds", std::to_string(peer.hold_time_seconds) + " is out of range; allowed: 3-65535");
  }
  if (peer.keepalive_seconds < 1 || peer.keepalive_seconds >= peer.hold_time_seconds) {
    c.error("keepalive_seconds", std::to_string(peer.keepalive_seconds) +
                                     " is out of range; allowed: 1 to less than hold_time_seconds");
  }
  if (peer.multihop_ttl < 0 || peer.multihop_ttl > 255) {
    c.error("multihop_ttl", std::to_string(peer.multihop_ttl) + " is out of range; allowed: 0 (BIRD default) or 1-255");
  } else if (!peer.multihop && peer.multihop_ttl != 0) {
    c.error("multihop_ttl", std::to_string(peer.multihop_ttl) + " is set but multihop is false; allowed: 0");
  }
  if (peer.password) {
    // The value is never shown, not even in an error.
    if (peer.password->empty() || peer.password->size() > kMaxTcpMd5KeyLength) {
      c.error("password", "length " + std::to_string(peer.password->size()) + " (value not shown); allowed: 1-80 bytes");
    } else if (!is_bird_string_safe(peer.password->reveal())) {
      c.error("password", "contains a control character, '\"' or '\\' (value not shown); "
                          "allowed: printable characters other than '\"' and '\\'");
    }
  }
  if (peer.tunnel_interface.empty() || peer.tunnel_interface.size() > 15 ||
      !is_bird_string_safe(peer.tunnel_interface) || peer.tunnel_interface.find(' ') != std::string::npos ||
      peer.tunnel_interface.find('/') != std::string::npos || peer.tunnel_interface.find('\'') != std::string::npos) {
    c.error("tunnel_interface", "\"" + (is_bird_string_safe(peer.tunnel_interface) ? peer.tunnel_interface : "<unprintable>") +
                                    "\" is not an interface name; allowed: 1-15 characters, no spaces, '/' or quotes");
  }
  if (peer.import_limit == 0) c.error("import_limit", "0; allowed: 1 or more routes");
  if (is_system_table(peer.kernel_table)) {
    c.error("kernel_table", std::to_string(peer.kernel_table) +
                                " belongs to the kernel (0 unspec, 253 default, 254 main, 255 local); allowed: "
                                "1-252 or 256-4294967295, a table only ergw writes");
  }
}

void check_prefix_families(const std::vector<IpPrefix>& prefixes, const char* name, Checker& c) {
  for (size_t i = 0; i < prefixes.size(); ++i) {
    if (!prefixes[i].is_v4()) c.error(list_field(name, i), prefixes[i].to_string() + " is IPv6; allowed: IPv4 prefixes");
  }
}

}  // namespace

std::string default_peer_path(const BgpPeer& peer) {
  return "peers[" + (peer.name.empty() ? std::string("?") : peer.name) + "]";
}

void validate_peer(const BgpPeer& peer, Diagnostics& diagnostics, const PeerPath& path) {
  Checker c(path(peer), diagnostics);
  check_name(peer, c);
  check_asns(peer, c);
  check_addresses(peer, c);
  check_session(peer, c);
  check_prefix_families(peer.export_prefixes, "export_prefixes", c);
  check_prefix_families(peer.vnet_prefixes, "vnet_prefixes", c);
}

void validate_config(const BirdConfig& config, Diagnostics& diagnostics, const PeerPath& path) {
  if (!config.router_id.is_v4()) {
    diagnostics.error("router_id", config.router_id.to_string() + " is IPv6; allowed: an IPv4 address");
  }
  if (!config.log_file.empty() && (!is_bird_string_safe(config.log_file) || config.log_file[0] != '/')) {
    diagnostics.error("log_file", "not an absolute path BIRD can quote; allowed: /absolute/path without quotes");
  }
  std::set<std::string> names;
  std::set<IpAddress> peer_addresses;
  for (const BgpPeer& peer : config.peers) {
    validate_peer(peer, diagnostics, path);
    const std::string prefix = path(peer) + ".";
    if (!names.insert(peer.name).second) {
      diagnostics.error(prefix + "name", "\"" + peer.name + "\" is used by another peer; names must be unique");
    }
    if (!peer_addresses.insert(peer.peer_address).second) {
      diagnostics.error(prefix + "peer_address",
                        peer.peer_address.to_string() + " is used by another peer; one session per Azure BGP address");
    }
    // BIRD allows one kernel protocol per BIRD table and ergw uses one table.
    if (peer.kernel_table != config.peers.front().kernel_table) {
      diagnostics.error(prefix + "kernel_table", std::to_string(peer.kernel_table) + " differs from the first peer's " +
                                                     std::to_string(config.peers.front().kernel_table) +
                                                     "; allowed: one ergw kernel table per BIRD instance");
    }
  }
}

}  // namespace ergw::routing
