// The difference between two configuration documents, as a list of changes
// an engineer reads: each with the field's path (connections by name, as
// `connections[azure-hub].azure.properties.dpdTimeoutSeconds`), the old and
// the new value. PSKs are not in documents; a changed PSK is reported by the
// caller with its connection's name and never a value.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ergw::api {

struct DocumentChange {
  enum class Kind { added, removed, changed };
  Kind kind = Kind::changed;
  std::string path;
  nlohmann::json from;  // null when added
  nlohmann::json to;    // null when removed
};

std::vector<DocumentChange> diff_documents(const nlohmann::json& from, const nlohmann::json& to);

const char* change_kind_name(DocumentChange::Kind kind);

}  // namespace ergw::api
