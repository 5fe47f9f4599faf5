// How many bytes ESP adds to a packet, and so the largest inner packet that
// crosses a path of a given MTU in one piece. Azure supports no IP
// fragmentation of ESP or of what the tunnel carries (VPN Gateway FAQ), and
// ExpressRoute's private peering carries 1500 bytes: a tunnel device whose
// MTU is this size makes the host send ICMP "fragmentation needed" (PMTUD)
// for anything larger instead of ESP packets that do not fit.
//
// One ESP packet in tunnel mode (RFC 4303 section 2, RFC 3948 for UDP):
//   outer IPv4 20 (IPv6 40) | UDP 8 when NAT-T | SPI 4 + sequence 4 | IV |
//   inner packet + padding + pad length 1 + next header 1 | ICV
// The inner packet, padding and the two trailer bytes together are a
// multiple of the cipher's block (16 for AES-CBC, 8 for 3DES/DES) and at
// least of 4 (ESP's own alignment, which is all AES-GCM and NULL need).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ergw::gateway {

struct EspTransform {
  std::string name;     // e.g. "AES_CBC_256/HMAC_SHA2_256_128", for logs and status
  int iv_bytes = 0;     // CBC: the block (16 AES, 8 3DES/DES); GCM: 8; NULL: 0
  int block_bytes = 4;  // what the padded payload is a multiple of
  int icv_bytes = 0;    // GCM 16; HMAC-MD5-96/SHA1-96 12; HMAC-SHA2-256-128 16; -384-192 24; -512-256 32
};

// The transform of an established CHILD SA, from charon's names (vici
// list-sas: encr-alg "AES_CBC", "AES_GCM_16", "3DES_CBC"...; integ-alg
// "HMAC_SHA2_256_128"..., empty with AEAD). nullopt for a name ergw does not know.
std::optional<EspTransform> transform_of_sa(std::string_view encr_alg, std::optional<uint32_t> encr_keysize,
                                            std::string_view integ_alg);
// The transform of an ESP proposal as ergw gives it to strongSwan
// ("aes256gcm16", "aes256-sha256", "3des-sha1-modp1024", "null-md5").
std::optional<EspTransform> transform_of_proposal(std::string_view proposal);

// The outer path.
struct EspPath {
  int mtu = 1500;         // the underlay's (ExpressRoute private peering: 1500)
  bool ipv6 = false;      // outer IPv6
  bool udp_encap = true;  // ESP in UDP/4500 (NAT-T; kernel-libipsec 5.9.8 always)
};
inline constexpr int kExpressRouteMtu = 1500;

// Bytes ESP adds to an inner packet of the largest size (with the padding
// that size needs).
int esp_overhead(const EspTransform& transform, const EspPath& path);
// The largest inner packet (the tunnel device's MTU) whose ESP packet fits
// path.mtu: floor((mtu - fixed) / block) * block - 2, where fixed is the
// outer header, UDP, SPI and sequence, IV and ICV.
int max_inner_packet(const EspTransform& transform, const EspPath& path);

}  // namespace ergw::gateway
