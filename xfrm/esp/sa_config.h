// Everything the engine needs to know about one ESP Security Association.
// Filled by the control plane (vici child SA, or a static SA file) and
// validated before the SA enters an SaTable.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"
#include "xfrm/esp/algorithm.h"

namespace ergw::xfrm::esp {

enum class Direction : uint8_t { inbound, outbound };

// How the I/O side carries the ESP payload; the engine itself only produces and
// consumes SPI..ICV and never looks at these.
enum class Encapsulation : uint8_t {
  raw_esp,  // IP protocol 50
  udp,      // RFC 3948 ESP-in-UDP (NAT-T)
};

// Which library performs AES-GCM. automatic = the faster one measured on this
// CPU (docs/esp-engine.md); CBC/HMAC always use OpenSSL.
enum class CryptoBackend : uint8_t { automatic, openssl, ipsec_mb };

// 0 = no limit. Bytes count inner (plaintext) IP packet bytes, as the kernel does.
struct LifetimeLimits {
  uint64_t bytes = 0;
  uint64_t packets = 0;
  uint64_t seconds = 0;
};

struct Lifetime {
  LifetimeLimits soft;  // raises a soft-expire event (rekey now)
  LifetimeLimits hard;  // raises a hard-expire event and stops the SA
};

inline constexpr uint32_t kDefaultReplayWindow = 64;  // RFC 4303 3.4.3 SHOULD
inline constexpr uint32_t kMaxReplayWindow = 16384;

struct SaConfig {
  uint32_t spi = 0;  // must not be 0 (RFC 4303 2.1, RFC 3948 2.1)
  Direction direction = Direction::inbound;
  // Opaque to the engine; carried into SaEvent so the control plane can map an
  // event back to its child SA (e.g. strongSwan's unique id / reqid).
  uint64_t owner_tag = 0;

  // Tunnel endpoints (outer addresses); local is ours. Same family.
  IpAddress local;
  IpAddress remote;
  Encapsulation encapsulation = Encapsulation::raw_esp;
  uint16_t udp_local_port = 4500;   // only for Encapsulation::udp
  uint16_t udp_remote_port = 4500;

  Algorithm algorithm;
  std::vector<uint8_t> encryption_key;  // the AES key only: 16, 24 or 32 octets
  std::array<uint8_t, 4> gcm_salt{};    // RFC 4106 4/8.1: last 4 octets of KEYMAT
  std::vector<uint8_t> integrity_key;   // HMAC key; empty for GCM

  bool esn = false;                            // RFC 4303 2.2.1 extended sequence numbers
  uint32_t replay_window = kDefaultReplayWindow;  // inbound; 0 disables anti-replay
  Lifetime lifetime;

  // Outbound: the last sequence number already used (the first packet carries
  // initial_sequence + 1). Inbound: the highest sequence number already seen.
  // 0 for a fresh SA; other values exist for tests and known-answer vectors.
  uint64_t initial_sequence = 0;
  // Packets and bytes the SA already carried in an earlier life (the fast
  // path restarted and the control plane re-installed it): its counters and
  // byte/packet lifetimes go on from here. 0 for a fresh SA.
  uint64_t initial_packets = 0;
  uint64_t initial_bytes = 0;
  // The 64-bit value XORed with the sequence number to form the explicit IV
  // (GCM) or the CBC IV nonce. Drawn from RAND_bytes when empty; set only by
  // known-answer tests.
  std::optional<uint64_t> iv_seed;

  CryptoBackend backend = CryptoBackend::automatic;
  // Accept Encryption::null_cleartext (bench/run's cleartext ceiling only).
  bool allow_null = false;
};

// Splits RFC 4106 8.1 KEYMAT (AES key || 4-octet salt) into the config.
Status set_gcm_keymat(SaConfig& config, std::span<const uint8_t> keymat);

// Checks lengths, algorithm/key agreement, SPI != 0, window range, soft <= hard.
// The error never contains key bytes.
Status validate(const SaConfig& config);

}  // namespace ergw::xfrm::esp
