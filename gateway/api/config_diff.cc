#include "gateway/api/config_diff.h"

#include <set>

#include "gateway/api/connection_resource.h"

namespace ergw::api {
namespace {

void diff_values(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
                 std::vector<DocumentChange>& out);

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

void diff_objects(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
                  std::vector<DocumentChange>& out) {
  std::set<std::string> keys;
  for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
  for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
  for (const auto& key : keys) {
    const bool in_a = a.contains(key);
    const bool in_b = b.contains(key);
    const auto p = join(path, key);
    if (in_a && !in_b) {
      out.push_back({DocumentChange::Kind::removed, p, a[key], nullptr});
    } else if (!in_a && in_b) {
      out.push_back({DocumentChange::Kind::added, p, nullptr, b[key]});
    } else {
      diff_values(a[key], b[key], p, out);
    }
  }
}

void diff_arrays(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
                 std::vector<DocumentChange>& out) {
  const size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) diff_values(a[i], b[i], path + "[" + std::to_string(i) + "]", out);
  for (size_t i = common; i < a.size(); ++i) {
    out.push_back({DocumentChange::Kind::removed, path + "[" + std::to_string(i) + "]", a[i], nullptr});
  }
  for (size_t i = common; i < b.size(); ++i) {
    out.push_back({DocumentChange::Kind::added, path + "[" + std::to_string(i) + "]", nullptr, b[i]});
  }
}

// Connections are matched by name, so that reordering or inserting one does
// not show every later connection as changed.
void diff_connections(const nlohmann::json& a_doc, const nlohmann::json& b_doc, std::vector<DocumentChange>& out) {
  const auto& a = a_doc["connections"];
  const auto& b = b_doc["connections"];
  const auto a_names = connection_names(a_doc);
  const auto b_names = connection_names(b_doc);
  for (size_t i = 0; i < a_names.size(); ++i) {
    const auto p = "connections[" + a_names[i] + "]";
    auto j = find_connection(b_doc, a_names[i]);
    if (!j) {
      out.push_back({DocumentChange::Kind::removed, p, a[i], nullptr});
    } else {
      diff_values(a[i], b[*j], p, out);
    }
  }
  for (size_t j = 0; j < b_names.size(); ++j) {
    if (!find_connection(a_doc, b_names[j])) {
      out.push_back({DocumentChange::Kind::added, "connections[" + b_names[j] + "]", nullptr, b[j]});
    }
  }
}

void diff_values(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
                 std::vector<DocumentChange>& out) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) return diff_objects(a, b, path, out);
  if (a.is_array() && b.is_array()) return diff_arrays(a, b, path, out);
  out.push_back({DocumentChange::Kind::changed, path, a, b});
}

}  // namespace

std::vector<DocumentChange> diff_documents(const nlohmann::json& from, const nlohmann::json& to) {
  std::vector<DocumentChange> out;
  const bool by_name = from.is_object() && to.is_object() && from.contains("connections") &&
                       to.contains("connections") && from["connections"].is_array() && to["connections"].is_array();
  if (!by_name) {
    diff_values(from, to, "", out);
    return out;
  }
  nlohmann::json a = from;
  nlohmann::json b = to;
  a.erase("connections");
  b.erase("connections");
  diff_values(a, b, "", out);
  diff_connections(from, to, out);
  return out;
}

const char* change_kind_name(DocumentChange::Kind kind) {
  switch (kind) {
    case DocumentChange::Kind::added: return "added";
    case DocumentChange::Kind::removed: return "removed";
    case DocumentChange::Kind::changed: return "changed";
  }
  return "changed";
}

}  // namespace ergw::api
