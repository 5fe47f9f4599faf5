#include "xfrm/esp/replay_window.h"

namespace ergw::xfrm::esp {
namespace {

size_t ring_words_for(uint32_t size) {
  // One spare word beyond the window, so clearing the word the right edge
  // moves into never touches a bit that is still inside the window (RFC 6479 2).
  const size_t needed = (size_t{size} + 63) / 64 + 1;
  size_t words = 1;
  while (words < needed) words <<= 1;
  return words;
}

}  // namespace

ReplayWindow::ReplayWindow(uint32_t size, uint64_t top)
    : size_(size == 0 ? 1 : size),
      top_(top),
      word_mask_(ring_words_for(size_) - 1),
      words_(new uint64_t[word_mask_ + 1]()) {
  // The top itself counts as received: for a new SA that is sequence 0, which
  // no sender ever uses.
  words_[(top_ / kWordBits) & word_mask_] |= uint64_t{1} << (top_ % kWordBits);
}

bool ReplayWindow::infer_esn(uint32_t seq_low, uint64_t& full) const {
  const auto top_low = static_cast<uint32_t>(top_);
  const auto top_high = static_cast<uint32_t>(top_ >> 32);
  // Bl = Tl - W + 1, computed modulo 2^32 as in Appendix A2.2.
  const uint32_t bottom_low = top_low - size_ + 1;
  uint64_t high = top_high;
  if (top_low >= size_ - 1) {
    // Case A: the window lies within one 2^32 subspace.
    if (seq_low < bottom_low) high = uint64_t{top_high} + 1;
  } else {
    // Case B: the window spans two subspaces.
    if (seq_low >= bottom_low) {
      if (top_high == 0) return false;  // before the first subspace
      high = uint64_t{top_high} - 1;
    }
  }
  full = (high << 32) | seq_low;
  return true;
}

bool ReplayWindow::bit(uint64_t seq) const {
  return (words_[(seq / kWordBits) & word_mask_] >> (seq % kWordBits)) & 1U;
}

ReplayWindow::Verdict ReplayWindow::check(uint64_t seq) const {
  if (seq > top_) return Verdict::fresh;
  if (top_ - seq >= size_) return Verdict::left_of_window;
  return bit(seq) ? Verdict::replayed : Verdict::fresh;
}

ReplayWindow::Verdict ReplayWindow::accept(uint64_t seq) {
  const Verdict verdict = check(seq);
  if (verdict != Verdict::fresh) return verdict;
  if (seq > top_) {
    // Clear the words between the old and the new right edge; a jump larger
    // than the ring clears it all.
    const uint64_t old_word = top_ / kWordBits;
    const uint64_t new_word = seq / kWordBits;
    const uint64_t steps = new_word - old_word;
    if (steps > word_mask_) {
      for (size_t i = 0; i <= word_mask_; ++i) words_[i] = 0;
    } else {
      for (uint64_t w = old_word + 1; w <= new_word; ++w) words_[w & word_mask_] = 0;
    }
    top_ = seq;
  }
  words_[(seq / kWordBits) & word_mask_] |= uint64_t{1} << (seq % kWordBits);
  return Verdict::fresh;
}

}  // namespace ergw::xfrm::esp
