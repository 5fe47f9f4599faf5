// What the fast path must remember across its own crash so that SAs the
// plugin replays keep working without IKE: per SA the sequence number last
// seen, the IV seed, when the SA was added, and the packets and bytes it
// carried (so that charon's QUERY_SA never sees them fall back and the byte
// and packet lifetimes go on). No keys: the plugin holds those. Written
// atomically (rename) to a small file, normally on tmpfs.
//
// Why: ESP forbids reusing a sequence number under one key (RFC 4303 3.3.3),
// the peer's replay window drops numbers it has seen, and GCM must never see
// the same nonce twice (RFC 4106 3.1). A replayed outbound SA therefore
// resumes kSequenceSkip numbers past the last recorded one, with the same IV
// seed, so every nonce stays unique.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "common/ip_prefix.h"
#include "common/result.h"

namespace ergw::xfrm::fastpath {

// Numbers an outbound SA skips after a restart: more than it can send between
// two saves (once a second) at 16 million packets per second.
inline constexpr uint64_t kSequenceSkip = uint64_t{1} << 24;

struct SequenceRecord {
  uint64_t sequence = 0;     // outbound: last used; inbound: right edge of the window
  uint64_t iv_seed = 0;
  int64_t added_unix = 0;    // wall-clock seconds when the SA was first added
  uint64_t packets = 0;      // carried so far (lifetime counters)
  uint64_t bytes = 0;
};

class SequenceStore {
 public:
  using Key = std::tuple<uint32_t /*spi*/, IpAddress /*dst*/, bool /*inbound*/>;

  // An empty path keeps everything in memory only.
  explicit SequenceStore(std::string path) : path_(std::move(path)) {}

  // Reads the file if it exists; a damaged file is an error (the caller
  // reports it and starts empty).
  Status load();
  Status save() const;

  const SequenceRecord* find(const Key& key) const;
  void put(const Key& key, const SequenceRecord& record) { records_[key] = record; }
  void erase(const Key& key) { records_.erase(key); }
  void clear() { records_.clear(); }
  size_t size() const { return records_.size(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::map<Key, SequenceRecord> records_;
};

}  // namespace ergw::xfrm::fastpath
