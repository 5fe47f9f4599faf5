#include "vici/message_codec.h"

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "vici/wire.h"

namespace ergw::vici {

// Appends decoded entries directly: the decoder has already checked uniqueness
// with a hash set, so the linear scan of Section::set would only make hostile
// input with many keys quadratic.
class SectionAppender {
 public:
  static Section::Entry& append(Section& section, std::string_view name) {
    Section::Entry& entry = section.entries_.emplace_back();
    entry.name = std::string(name);
    return entry;
  }
};

namespace {

Error encode_error(std::string what) { return Error{"vici encode: " + std::move(what), ErrorCode::invalid_argument}; }

void put_u8(std::string& out, uint8_t value) { out.push_back(static_cast<char>(value)); }

void put_u16(std::string& out, std::size_t value) {
  put_u8(out, static_cast<uint8_t>(value >> 8));
  put_u8(out, static_cast<uint8_t>(value & 0xff));
}

Status put_name(std::string& out, std::string_view name) {
  if (name.size() > kMaxNameLength) {
    return encode_error("name of " + std::to_string(name.size()) + " bytes exceeds 255");
  }
  put_u8(out, static_cast<uint8_t>(name.size()));
  out += name;
  return {};
}

Status put_value(std::string& out, std::string_view name, std::string_view value) {
  // Only the key is named in the error: the value may be a secret.
  if (value.size() > kMaxValueLength) {
    return encode_error("value of '" + std::string(name) + "' exceeds 65535 bytes");
  }
  put_u16(out, value.size());
  out += value;
  return {};
}

Status encode_section(const Section& section, std::string& out, std::size_t depth,
                      std::size_t start) {
  for (const Section::Entry& entry : section.entries()) {
    // Stop early rather than building an encoding far beyond the limit.
    if (out.size() - start > kMaxSegmentSize) return encode_error("message exceeds 512 KiB");
    switch (entry.kind()) {
      case Section::Kind::value: {
        put_u8(out, static_cast<uint8_t>(ElementType::key_value));
        if (Status s = put_name(out, entry.name); !s) return s;
        if (Status s = put_value(out, entry.name, std::get<std::string>(entry.value)); !s) {
          return s;
        }
        break;
      }
      case Section::Kind::list: {
        put_u8(out, static_cast<uint8_t>(ElementType::list_start));
        if (Status s = put_name(out, entry.name); !s) return s;
        for (const std::string& item : std::get<List>(entry.value)) {
          put_u8(out, static_cast<uint8_t>(ElementType::list_item));
          if (Status s = put_value(out, entry.name, item); !s) return s;
        }
        put_u8(out, static_cast<uint8_t>(ElementType::list_end));
        break;
      }
      case Section::Kind::section: {
        if (depth + 1 > kMaxSectionDepth) return encode_error("sections nested too deep");
        put_u8(out, static_cast<uint8_t>(ElementType::section_start));
        if (Status s = put_name(out, entry.name); !s) return s;
        if (Status s = encode_section(std::get<Section>(entry.value), out, depth + 1, start); !s) {
          return s;
        }
        put_u8(out, static_cast<uint8_t>(ElementType::section_end));
        break;
      }
    }
  }
  return {};
}

// Bounds-checked reader over the input.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return pos_ == bytes_.size(); }
  std::size_t offset() const { return pos_; }

  bool u8(uint8_t& value) {
    if (bytes_.size() - pos_ < 1) return false;
    value = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool u16(std::size_t& value) {
    if (bytes_.size() - pos_ < 2) return false;
    value = (static_cast<std::size_t>(static_cast<uint8_t>(bytes_[pos_])) << 8) |
            static_cast<uint8_t>(bytes_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool blob(std::size_t length, std::string_view& value) {
    if (bytes_.size() - pos_ < length) return false;
    value = bytes_.substr(pos_, length);
    pos_ += length;
    return true;
  }
  bool name(std::string_view& value) {
    uint8_t length = 0;
    return u8(length) && blob(length, value);
  }
  bool value(std::string_view& out) {
    std::size_t length = 0;
    return u16(length) && blob(length, out);
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

// One open section while decoding, with the names seen in it so far.
struct OpenSection {
  Section* section;
  std::unordered_set<std::string_view> names;
};

class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : reader_(bytes) {}

  Result<Message> run() {
    Message root;
    stack_.push_back(OpenSection{&root, {}});
    while (!reader_.done()) {
      element_offset_ = reader_.offset();
      uint8_t type = 0;
      if (!reader_.u8(type)) return fail("truncated");
      Status step = element(type);
      if (!step) return step.failure();
    }
    if (list_ != nullptr) return fail("unterminated list at end of message");
    if (stack_.size() != 1) return fail("unterminated section at end of message");
    return root;
  }

 private:
  Error fail(std::string what) const {
    return Error{"vici decode: " + std::move(what) + " (element at offset " +
                 std::to_string(element_offset_) + ")", ErrorCode::malformed};
  }

  Status element(uint8_t type) {
    switch (static_cast<ElementType>(type)) {
      case ElementType::section_start: return section_start();
      case ElementType::section_end: return section_end();
      case ElementType::key_value: return key_value();
      case ElementType::list_start: return list_start();
      case ElementType::list_item: return list_item();
      case ElementType::list_end: return list_end();
    }
    return fail("unknown element type " + std::to_string(type));
  }

  // Reads the name of a named element and claims it in the current section.
  Status claim_name(std::string_view& name, std::string_view element_name) {
    if (list_ != nullptr) return fail(std::string(element_name) + " inside a list");
    if (!reader_.name(name)) return fail("truncated " + std::string(element_name));
    if (!stack_.back().names.insert(name).second) {
      return fail("duplicate key '" + std::string(name) + "'");
    }
    return {};
  }

  Status section_start() {
    std::string_view name;
    if (Status s = claim_name(name, "section"); !s) return s;
    if (stack_.size() > kMaxSectionDepth) return fail("sections nested too deep");
    Section::Entry& entry = SectionAppender::append(*stack_.back().section, name);
    entry.value = Section{};
    stack_.push_back(OpenSection{&std::get<Section>(entry.value), {}});
    return {};
  }

  Status section_end() {
    if (list_ != nullptr) return fail("section end inside a list");
    if (stack_.size() == 1) return fail("section end without a section");
    stack_.pop_back();
    return {};
  }

  Status key_value() {
    std::string_view name;
    if (Status s = claim_name(name, "key/value"); !s) return s;
    std::string_view value;
    if (!reader_.value(value)) return fail("truncated value");
    SectionAppender::append(*stack_.back().section, name).value = std::string(value);
    return {};
  }

  Status list_start() {
    std::string_view name;
    if (Status s = claim_name(name, "list"); !s) return s;
    Section::Entry& entry = SectionAppender::append(*stack_.back().section, name);
    entry.value = List{};
    list_ = &std::get<List>(entry.value);
    return {};
  }

  Status list_item() {
    if (list_ == nullptr) return fail("list item outside a list");
    std::string_view value;
    if (!reader_.value(value)) return fail("truncated list item");
    list_->emplace_back(value);
    return {};
  }

  Status list_end() {
    if (list_ == nullptr) return fail("list end without a list");
    list_ = nullptr;
    return {};
  }

  Reader reader_;
  std::vector<OpenSection> stack_;
  List* list_ = nullptr;  // the open list, if any (lists do not nest)
  std::size_t element_offset_ = 0;
};

}  // namespace

Status encode_message_to(const Message& message, std::string& out) {
  const std::size_t start = out.size();
  if (Status s = encode_section(message, out, 0, start); !s) return s;
  if (out.size() - start > kMaxSegmentSize) return encode_error("message exceeds 512 KiB");
  return {};
}

Result<std::string> encode_message(const Message& message) {
  std::string out;
  if (Status s = encode_message_to(message, out); !s) return s.failure();
  return out;
}

Result<Message> decode_message(std::string_view bytes) {
  if (bytes.size() > kMaxSegmentSize) {
    return Error{"vici decode: message of " + std::to_string(bytes.size()) +
                 " bytes exceeds 512 KiB", ErrorCode::malformed};
  }
  return Decoder(bytes).run();
}

}  // namespace ergw::vici
