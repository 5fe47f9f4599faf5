// Anti-replay window of RFC 4303 3.4.3, kept as the RFC 6479 ring of 64-bit
// words (no bit shifting: a sequence number's bit never moves; whole words
// are cleared as the right edge advances), with the ESN high-order inference
// of RFC 4303 Appendix A.
//
// Not thread-safe by itself: Sa serialises check/accept with its own lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ergw::xfrm::esp {

class ReplayWindow {
 public:
  enum class Verdict : uint8_t { fresh, replayed, left_of_window };

  // `size` packets (>= 1); `top` is the highest sequence number already
  // accepted (0 for a new SA: sequence 0 is never sent, RFC 4303 2.2).
  ReplayWindow(uint32_t size, uint64_t top);

  uint32_t size() const { return size_; }
  uint64_t top() const { return top_; }

  // RFC 4303 Appendix A2.2: the full 64-bit sequence number for the received
  // low 32 bits. Returns false when the number would lie before sequence 0
  // (only possible near the start of the SA), i.e. left of the window.
  bool infer_esn(uint32_t seq_low, uint64_t& full) const;

  // Is `seq` acceptable? Does not change state (called before the ICV check).
  Verdict check(uint64_t seq) const;
  // Marks `seq` as received, advancing the right edge if needed (call only
  // after the ICV verified, RFC 4303 3.4.3). Returns check()'s verdict at the
  // moment of the update; only `fresh` changes state.
  Verdict accept(uint64_t seq);

 private:
  static constexpr unsigned kWordBits = 64;
  bool bit(uint64_t seq) const;

  uint32_t size_;
  uint64_t top_;
  size_t word_mask_;  // ring length - 1 (ring length is a power of two)
  std::unique_ptr<uint64_t[]> words_;
};

}  // namespace ergw::xfrm::esp
