// Every reason the ESP engine refuses a packet, declared once (X-macro) so the
// enum, its names and the per-SA counters can never drift apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

// X(identifier, "one-line explanation")
#define ERGW_ESP_DROP_REASONS(X)                                                          \
  X(truncated, "packet shorter than ESP header + IV + trailer + ICV")                    \
  X(unknown_spi, "no inbound SA with this SPI")                                           \
  X(wrong_direction, "SA used in the wrong direction")                                    \
  X(bad_block_alignment, "CBC ciphertext is not a multiple of the block size")            \
  X(replayed, "sequence number already received (RFC 4303 3.4.3)")                       \
  X(left_of_window, "sequence number left of the anti-replay window (RFC 4303 3.4.3)")   \
  X(icv_mismatch, "integrity check value does not verify")                                \
  X(bad_pad_length, "pad length exceeds the decrypted payload")                           \
  X(bad_padding, "padding bytes are not 1,2,3,... (RFC 4303 2.4)")                       \
  X(dummy_packet, "next header 59: dummy packet, discarded silently (RFC 4303 2.6)")     \
  X(wrong_next_header, "next header is not 4/41 or does not match the inner IP version") \
  X(bad_inner_packet, "inner IP header missing, wrong version or length inconsistent")    \
  X(sa_expired, "SA passed a hard lifetime or was retired")                               \
  X(sequence_exhausted, "outbound sequence number space used up (RFC 4303 2.2)")         \
  X(buffer_too_small, "caller buffer lacks the documented headroom or tailroom")          \
  X(crypto_failure, "the crypto library reported an internal error")                      \
  X(no_thread_slot, "more concurrent data-path threads than kMaxDataPathThreads")         \
  X(oversized, "packet longer than an IP packet can be (65535 octets)")

namespace ergw::xfrm::esp {

enum class DropReason : uint8_t {
#define ERGW_ESP_X(name, text) name,
  ERGW_ESP_DROP_REASONS(ERGW_ESP_X)
#undef ERGW_ESP_X
};

inline constexpr size_t kDropReasonCount = 0
#define ERGW_ESP_X(name, text) +1
    ERGW_ESP_DROP_REASONS(ERGW_ESP_X)
#undef ERGW_ESP_X
    ;

// "icv_mismatch" etc.: stable names for counters and metrics.
std::string_view to_string(DropReason reason);
// One-line explanation for humans.
std::string_view describe(DropReason reason);

}  // namespace ergw::xfrm::esp
