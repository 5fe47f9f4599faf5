// A configuration on its way into the store: the document as stored (ergw's
// configuration file format with every secret taken out), the PSKs and BGP
// passwords apart (store::SecretMap), and the configuration they make, validated by the
// rule book. The same path serves the API, the file workflow (SIGHUP) and the
// revisions already stored (rollback, start, a missed confirmation).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/policy/azure_connection.h"
#include "common/diagnostics.h"
#include "gateway/store/revision.h"

namespace ergw::api {

struct Candidate {
  nlohmann::json document;   // no secrets
  store::SecretMap secrets;  // PSKs and BGP passwords (store/revision.h)
  policy::ApplianceConfig config;
};

// Where a document's PSKs may come from.
enum class SecretSources {
  inline_only,       // the API: azure sharedKey only (a path on the appliance is refused)
  inline_and_files,  // the configuration file: sharedKey or sharedKeyFile
};

// Reads `original` (ergw's configuration format), takes its PSKs and BGP
// passwords out, and gives connections without one the one from `carried`
// (the active revision's, by name: a PUT need not repeat a key it cannot
// read back).
// Every diagnostic of reading and of the rule book goes to `diagnostics`;
// nullopt when there is an error.
std::optional<Candidate> prepare_candidate(const nlohmann::json& original, SecretSources sources,
                                           const std::filesystem::path& base_dir, const store::SecretMap& carried,
                                           Diagnostics& diagnostics);

// The configuration a stored document and its secrets make (again through
// the rule book: a rollback target is checked like a new document).
std::optional<Candidate> candidate_from_revision(const nlohmann::json& document, store::SecretMap secrets,
                                                 Diagnostics& diagnostics);

// The configuration file a revision is exported to: the document with each
// PSK referenced as `sharedKeyFile` `<key_dir>/<connection>.psk` and each BGP
// password as `bgpPasswordFile` `<key_dir>/<connection>.bgp-password`.
std::string export_text(const nlohmann::json& document, const store::SecretMap& secrets,
                        const std::filesystem::path& key_dir);

// The key file of a secret (store::SecretMap's names) under `key_dir`.
std::filesystem::path secret_file(const std::filesystem::path& key_dir, const std::string& secret_name);

// SHA-256 of a text, hex.
std::string sha256_hex(const std::string& text);

}  // namespace ergw::api
