#include "xfrm/fastpath/sequence_store.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace ergw::xfrm::fastpath {

// One line per SA: "spi dst in|out sequence iv_seed added_unix packets bytes",
// decimal. Lines without the last two (written before they were kept) are
// read with packets and bytes 0, so an upgrade keeps the sequence numbers.
Status SequenceStore::load() {
  records_.clear();
  if (path_.empty()) return Status::success();
  std::ifstream in(path_);
  if (!in) return Status::success();  // first start
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    uint32_t spi = 0;
    std::string dst, direction;
    SequenceRecord record;
    const bool complete =
        static_cast<bool>(fields >> spi >> dst >> direction >> record.sequence >> record.iv_seed >> record.added_unix);
    if (complete && !(fields >> record.packets >> record.bytes)) {
      record.packets = record.bytes = 0;
      fields.clear();
      std::string rest;
      if (fields >> rest) {
        records_.clear();
        return Error{path_ + ":" + std::to_string(number) + ": not a sequence record"};
      }
    }
    if (!complete || (direction != "in" && direction != "out")) {
      records_.clear();
      return Error{path_ + ":" + std::to_string(number) + ": not a sequence record"};
    }
    auto address = IpAddress::parse(dst);
    if (!address) {
      records_.clear();
      return Error{path_ + ":" + std::to_string(number) + ": bad address"};
    }
    records_[{spi, *address, direction == "in"}] = record;
  }
  return Status::success();
}

Status SequenceStore::save() const {
  if (path_.empty()) return Status::success();
  const std::string temporary = path_ + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out) return Error{"cannot write " + temporary};
    for (const auto& [key, record] : records_) {
      out << std::get<0>(key) << ' ' << std::get<1>(key).to_string() << ' ' << (std::get<2>(key) ? "in" : "out")
          << ' ' << record.sequence << ' ' << record.iv_seed << ' ' << record.added_unix << ' ' << record.packets
          << ' ' << record.bytes << '\n';
    }
    if (!out.flush()) return Error{"cannot write " + temporary};
  }
  if (std::rename(temporary.c_str(), path_.c_str()) != 0) return Error{"cannot rename " + temporary};
  return Status::success();
}

const SequenceRecord* SequenceStore::find(const Key& key) const {
  const auto it = records_.find(key);
  return it == records_.end() ? nullptr : &it->second;
}

}  // namespace ergw::xfrm::fastpath
