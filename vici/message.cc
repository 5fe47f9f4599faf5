#include "vici/message.h"

#include "common/secret.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace ergw::vici {

Section::Section(const Section&) = default;
Section::Section(Section&&) noexcept = default;
Section& Section::operator=(const Section&) = default;
Section& Section::operator=(Section&&) noexcept = default;
Section::~Section() = default;

bool Section::operator==(const Section& other) const { return entries_ == other.entries_; }

Section::Entry& Section::upsert(std::string_view key) {
  for (Entry& entry : entries_) {
    if (entry.name == key) return entry;
  }
  Entry& added = entries_.emplace_back();
  added.name = std::string(key);
  return added;
}

Section& Section::set(std::string_view key, std::string_view value) {
  upsert(key).value = std::string(value);
  return *this;
}

Section& Section::set_int(std::string_view key, int64_t value) {
  return set(key, std::to_string(value));
}

Section& Section::set_uint(std::string_view key, uint64_t value) {
  return set(key, std::to_string(value));
}

Section& Section::set_bool(std::string_view key, bool value) {
  return set(key, value ? "yes" : "no");
}

Section& Section::set_list(std::string_view key, List items) {
  upsert(key).value = std::move(items);
  return *this;
}

Section& Section::set_list(std::string_view key, std::initializer_list<std::string_view> items) {
  List list;
  list.reserve(items.size());
  for (std::string_view item : items) list.emplace_back(item);
  return set_list(key, std::move(list));
}

Section& Section::append_to_list(std::string_view key, std::string_view item) {
  Entry& entry = upsert(key);
  if (entry.kind() != Kind::list) entry.value = List{};
  std::get<List>(entry.value).emplace_back(item);
  return *this;
}

Section& Section::set_section(std::string_view key, Section child) {
  upsert(key).value = std::move(child);
  return *this;
}

Section& Section::section(std::string_view key) {
  Entry& entry = upsert(key);
  if (entry.kind() != Kind::section) entry.value = Section{};
  return std::get<Section>(entry.value);
}

bool Section::erase(std::string_view key) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& entry) { return entry.name == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

void Section::wipe_values() {
  for (Entry& entry : entries_) {
    if (auto* text = std::get_if<std::string>(&entry.value)) wipe(*text);
    if (auto* list = std::get_if<List>(&entry.value)) {
      for (std::string& item : *list) wipe(item);
    }
    if (auto* child = std::get_if<Section>(&entry.value)) child->wipe_values();
  }
}

const Section::Entry* Section::find(std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.name == key) return &entry;
  }
  return nullptr;
}

namespace {

std::string quoted(std::string_view key) { return "'" + std::string(key) + "'"; }

template <typename T>
Field<T> missing(std::string_view key) {
  return Field<T>::failure(FieldError::missing, "key " + quoted(key) + " is missing");
}

template <typename T>
Field<T> wrong_kind(std::string_view key, Section::Kind want, Section::Kind have) {
  return Field<T>::failure(FieldError::wrong_kind, "key " + quoted(key) + " is a " +
                                                       std::string(kind_name(have)) +
                                                       ", expected a " +
                                                       std::string(kind_name(want)));
}

template <typename T>
Field<T> malformed(std::string_view key, std::string_view expected) {
  // The value itself stays out of the message: it may be a secret.
  return Field<T>::failure(FieldError::malformed,
                           "key " + quoted(key) + " is not " + std::string(expected));
}

template <typename T>
Field<T> parse_number(std::string_view key, std::string_view text, std::string_view what) {
  T number{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, number, 10);
  if (text.empty() || ec != std::errc() || ptr != end) return malformed<T>(key, what);
  return number;
}

}  // namespace

Field<std::string_view> Section::get_string(std::string_view key) const {
  const Entry* entry = find(key);
  if (entry == nullptr) return missing<std::string_view>(key);
  if (entry->kind() != Kind::value) {
    return wrong_kind<std::string_view>(key, Kind::value, entry->kind());
  }
  return std::string_view(std::get<std::string>(entry->value));
}

Field<int64_t> Section::get_int(std::string_view key) const {
  Field<std::string_view> text = get_string(key);
  if (!text) return text.forward_failure<int64_t>();
  return parse_number<int64_t>(key, *text, "an integer");
}

Field<uint64_t> Section::get_uint(std::string_view key) const {
  Field<std::string_view> text = get_string(key);
  if (!text) return text.forward_failure<uint64_t>();
  return parse_number<uint64_t>(key, *text, "an unsigned integer");
}

Field<bool> Section::get_bool(std::string_view key) const {
  Field<std::string_view> text = get_string(key);
  if (!text) return text.forward_failure<bool>();
  // charon sends yes/no; strongSwan's settings parser also takes true/false.
  if (*text == "yes" || *text == "true") return true;
  if (*text == "no" || *text == "false") return false;
  return malformed<bool>(key, "a boolean (yes/no)");
}

Field<const Section*> Section::get_section(std::string_view key) const {
  const Entry* entry = find(key);
  if (entry == nullptr) return missing<const Section*>(key);
  if (entry->kind() != Kind::section) {
    return wrong_kind<const Section*>(key, Kind::section, entry->kind());
  }
  return &std::get<Section>(entry->value);
}

Field<const List*> Section::get_list(std::string_view key) const {
  const Entry* entry = find(key);
  if (entry == nullptr) return missing<const List*>(key);
  if (entry->kind() != Kind::list) return wrong_kind<const List*>(key, Kind::list, entry->kind());
  return &std::get<List>(entry->value);
}

std::string_view Section::string_or(std::string_view key, std::string_view fallback) const {
  Field<std::string_view> text = get_string(key);
  return text ? *text : fallback;
}

std::string_view kind_name(Section::Kind kind) {
  switch (kind) {
    case Section::Kind::value: return "value";
    case Section::Kind::list: return "list";
    case Section::Kind::section: return "section";
  }
  return "?";
}

namespace {

// Keys whose values are secrets somewhere in the vici command set
// (load-shared "data", load-key "data", EAP/XAUTH passwords, ...).
bool is_secret_key(std::string_view key) {
  static constexpr std::array<std::string_view, 5> kSecretKeys = {
      "data", "secret", "password", "psk", "key"};
  return std::find(kSecretKeys.begin(), kSecretKeys.end(), key) != kSecretKeys.end();
}

bool is_printable(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c >= 0x20 && c < 0x7f; });
}

void append_value(std::string& out, std::string_view value) {
  if (is_printable(value)) {
    out += value;
  } else {
    out += "<" + std::to_string(value.size()) + " bytes>";
  }
}

void append_section(std::string& out, const Section& section, int indent) {
  for (const Section::Entry& entry : section.entries()) {
    out.append(static_cast<std::size_t>(indent) * 2, ' ');
    out += entry.name;
    switch (entry.kind()) {
      case Section::Kind::value:
        out += " = ";
        if (is_secret_key(entry.name)) {
          out += "<redacted>";
        } else {
          append_value(out, std::get<std::string>(entry.value));
        }
        out += "\n";
        break;
      case Section::Kind::list: {
        out += " = [";
        bool first = true;
        for (const std::string& item : std::get<List>(entry.value)) {
          if (!first) out += ", ";
          first = false;
          if (is_secret_key(entry.name)) {
            out += "<redacted>";
          } else {
            append_value(out, item);
          }
        }
        out += "]\n";
        break;
      }
      case Section::Kind::section:
        out += " {\n";
        append_section(out, std::get<Section>(entry.value), indent + 1);
        out.append(static_cast<std::size_t>(indent) * 2, ' ');
        out += "}\n";
        break;
    }
  }
}

}  // namespace

std::string to_debug_string(const Section& section) {
  std::string out;
  append_section(out, section, 0);
  return out;
}

}  // namespace ergw::vici
