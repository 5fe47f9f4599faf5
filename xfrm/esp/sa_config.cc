#include "xfrm/esp/sa_config.h"

#include <algorithm>
#include <string>

namespace ergw::xfrm::esp {

Status set_gcm_keymat(SaConfig& config, std::span<const uint8_t> keymat) {
  // RFC 4106 8.1: KEYMAT is the AES key followed by a 4-octet salt.
  if (keymat.size() != 20 && keymat.size() != 28 && keymat.size() != 36) {
    return Error{"AES-GCM KEYMAT must be 20, 28 or 36 octets, got " + std::to_string(keymat.size())};
  }
  config.encryption_key.assign(keymat.begin(), keymat.end() - 4);
  std::copy(keymat.end() - 4, keymat.end(), config.gcm_salt.begin());
  return Status::success();
}

namespace {

Status check_limits(const char* what, uint64_t soft, uint64_t hard) {
  if (soft != 0 && hard != 0 && soft > hard) {
    return Error{std::string("soft ") + what + " lifetime exceeds the hard one"};
  }
  return Status::success();
}

Status check_algorithm_and_keys(const SaConfig& config, const std::string& sa) {
  const Algorithm& algorithm = config.algorithm;
  if (algorithm.is_null()) {
    if (!config.allow_null) return Error{sa + "the null transform carries cleartext and is refused"};
    if (!config.encryption_key.empty() || !config.integrity_key.empty() || algorithm.integrity != Integrity::none) {
      return Error{sa + "the null transform takes no keys and no integrity algorithm"};
    }
    return Status::success();
  }
  if (algorithm.key_bits != 128 && algorithm.key_bits != 192 && algorithm.key_bits != 256) {
    return Error{sa + "AES key length must be 128, 192 or 256 bits"};
  }
  if (config.encryption_key.size() != algorithm.key_bytes()) {
    return Error{sa + "encryption key is " + std::to_string(config.encryption_key.size()) +
                 " octets, " + to_string(algorithm) + " needs " + std::to_string(algorithm.key_bytes())};
  }
  if (algorithm.is_aead()) {
    if (algorithm.integrity != Integrity::none) {
      return Error{sa + "AES-GCM takes no separate integrity algorithm"};
    }
    if (!config.integrity_key.empty()) return Error{sa + "AES-GCM takes no integrity key"};
  } else {
    if (algorithm.integrity == Integrity::none) {
      return Error{sa + "AES-CBC needs an integrity algorithm"};
    }
    if (config.integrity_key.size() != algorithm.integrity_key_bytes()) {
      return Error{sa + "integrity key is " + std::to_string(config.integrity_key.size()) +
                   " octets, " + to_string(algorithm) + " needs " +
                   std::to_string(algorithm.integrity_key_bytes())};
    }
  }
  return Status::success();
}

}  // namespace

Status validate(const SaConfig& config) {
  const std::string sa = "SA " + std::to_string(config.spi) + ": ";
  if (config.spi == 0) return Error{"SPI 0 is reserved (RFC 4303 2.1)"};
  if (config.local.family() != config.remote.family()) {
    return Error{sa + "tunnel endpoints must be of the same address family"};
  }
  if (Status s = check_algorithm_and_keys(config, sa); !s.ok()) return s;
  if (config.replay_window > kMaxReplayWindow) {
    return Error{sa + "replay window " + std::to_string(config.replay_window) + " exceeds " +
                 std::to_string(kMaxReplayWindow)};
  }
  if (config.direction == Direction::inbound && config.esn && config.replay_window == 0) {
    // The high half is inferred from the window (RFC 4303 Appendix A).
    return Error{sa + "ESN needs an anti-replay window"};
  }
  if (config.direction == Direction::inbound && config.replay_window != 0 && config.replay_window < 32) {
    return Error{sa + "replay window below the RFC 4303 3.4.3 minimum of 32"};
  }
  if (!config.esn && config.initial_sequence > UINT32_MAX) {
    return Error{sa + "initial sequence number exceeds 32 bits without ESN"};
  }
  if (config.encapsulation == Encapsulation::udp &&
      (config.udp_local_port == 0 || config.udp_remote_port == 0)) {
    return Error{sa + "ESP-in-UDP needs non-zero ports"};
  }
  for (Status s : {check_limits("byte", config.lifetime.soft.bytes, config.lifetime.hard.bytes),
                   check_limits("packet", config.lifetime.soft.packets, config.lifetime.hard.packets),
                   check_limits("time", config.lifetime.soft.seconds, config.lifetime.hard.seconds)}) {
    if (!s.ok()) return Error{sa + s.error()};
  }
  return Status::success();
}

}  // namespace ergw::xfrm::esp
