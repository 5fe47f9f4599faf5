// The vici message tree: a section holds, in order, named entries that are a
// value (an opaque blob, usually text), a list of blobs, or a nested section.
// Keys are unique within a section (vici README "Key names must be unique within a
// section"); the setters below replace an existing key in place, so a tree built
// with them is always valid. Size limits (name <= 255, value <= 65535, message <=
// 512 KiB) are checked when encoding, see message_codec.h.
//
//   Message m;
//   m.set("type", "IKE").set_list("owners", {"10.0.0.1", "10.0.0.2"});
//   Section& conn = m.section("azure").set_int("version", 2);
//   conn.section("children").section("net").set_list("local_ts", {"0.0.0.0/0"});
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vici/field.h"

namespace ergw::vici {

using List = std::vector<std::string>;

class Section {
 public:
  struct Entry;
  enum class Kind { value, list, section };

  Section() = default;
  Section(const Section&);
  Section(Section&&) noexcept;
  Section& operator=(const Section&);
  Section& operator=(Section&&) noexcept;
  ~Section();

  // --- building: each setter inserts the key, or replaces it where it stands ---
  Section& set(std::string_view key, std::string_view value);
  Section& set_int(std::string_view key, int64_t value);
  Section& set_uint(std::string_view key, uint64_t value);
  Section& set_bool(std::string_view key, bool value);  // "yes" / "no"
  Section& set_list(std::string_view key, List items);
  Section& set_list(std::string_view key, std::initializer_list<std::string_view> items);
  // Appends to the list `key`, creating it (or replacing a non-list) first.
  Section& append_to_list(std::string_view key, std::string_view item);
  Section& set_section(std::string_view key, Section child);
  // The child section `key`, created empty if absent (a non-section is replaced).
  Section& section(std::string_view key);
  bool erase(std::string_view key);
  // Overwrites every value and list item with zeros, recursively (ergw::wipe).
  void wipe_values();

  // --- reading ---
  const std::vector<Entry>& entries() const { return entries_; }
  std::size_t size() const;
  bool empty() const;
  const Entry* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }

  Field<std::string_view> get_string(std::string_view key) const;
  Field<int64_t> get_int(std::string_view key) const;     // decimal, optional '-'
  Field<uint64_t> get_uint(std::string_view key) const;   // decimal
  Field<bool> get_bool(std::string_view key) const;       // yes/no (also true/false)
  Field<const Section*> get_section(std::string_view key) const;
  Field<const List*> get_list(std::string_view key) const;

  std::string_view string_or(std::string_view key, std::string_view fallback) const;

  bool operator==(const Section& other) const;

 private:
  friend class SectionAppender;
  Entry& upsert(std::string_view key);
  std::vector<Entry> entries_;
};

struct Section::Entry {
  std::string name;
  std::variant<std::string, List, Section> value;

  Kind kind() const { return static_cast<Kind>(value.index()); }
  bool operator==(const Entry&) const = default;
};

inline std::size_t Section::size() const { return entries_.size(); }
inline bool Section::empty() const { return entries_.empty(); }

// A whole vici message is a top-level section without a name.
using Message = Section;

std::string_view kind_name(Section::Kind kind);

// Text form for debugging and test failures. Values of keys that may hold secrets
// ("data", "secret", "password", ...) are replaced by "<redacted>".
std::string to_debug_string(const Section& section);

}  // namespace ergw::vici
