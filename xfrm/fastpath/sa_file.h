// The static SA file of ergw-fastpath: manually keyed SAs, the same facts one
// would give `ip xfrm state add` by hand (SPI, endpoints, encap, algorithm,
// keys, ESN, replay window, lifetimes), plus inner selectors. JSON; the format
// is documented with an example in docs/fastpath.md "SA file".
//
// Errors name the offending field by its path ("sas[1].aead.key") and the
// allowed values; they never contain key material.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"
#include "xfrm/esp/sa_config.h"

namespace ergw::xfrm::fastpath {

struct StaticSa {
  std::string name;
  esp::SaConfig config;  // holds keys: never print it
  // Inner-packet selectors (RFC 4301 §4.4.2). Outbound: packets whose
  // addresses match go to this SA (longest dst prefix wins). Inbound: a
  // decrypted packet must match, else it is dropped. Empty = any address.
  std::vector<IpPrefix> selector_src;
  std::vector<IpPrefix> selector_dst;
};

struct SaFile {
  std::vector<StaticSa> sas;
};

// Parses and validates the whole file; on failure the error lists every
// problem found, one per line.
// `allow_null`: accept "enc": {"name": "ecb(cipher_null)"} without "auth",
// the cleartext transform bench/run measures the I/O with (never in service).
Result<SaFile> parse_sa_file(std::string_view json_text, bool allow_null = false);
Result<SaFile> load_sa_file(const std::string& path, bool allow_null = false);

}  // namespace ergw::xfrm::fastpath
