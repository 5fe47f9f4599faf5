#include "gateway/api/config_candidate.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "gateway/policy/azure_enums.h"
#include "gateway/policy/connection_members.h"
#include "gateway/policy/connection_reader.h"
#include "gateway/policy/validator.h"

namespace ergw::api {
namespace {

// Erases every member of `object` named `key` in any case, wiping string
// values first (a PSK should not linger in freed memory).
void erase_wiped(nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return;
  for (auto it = object.begin(); it != object.end();) {
    if (policy::equals_ignoring_case(it.key(), key)) {
      if (it->is_string()) {
        auto& text = it->get_ref<std::string&>();
        OPENSSL_cleanse(text.data(), text.size());
      }
      it = object.erase(it);
    } else {
      ++it;
    }
  }
}

nlohmann::json* member(nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (policy::equals_ignoring_case(it.key(), key)) return &it.value();
  }
  return nullptr;
}

// The object of an Azure connection that carries its fields (ARM: under
// "properties"; az CLI: the object itself).
nlohmann::json* azure_fields(nlohmann::json& entry) {
  auto* azure = member(entry, "azure");
  if (azure == nullptr || !azure->is_object()) return nullptr;
  auto* properties = member(*azure, "properties");
  return properties != nullptr && properties->is_object() ? properties : azure;
}

nlohmann::json without_secrets(nlohmann::json document) {
  if (auto* list = member(document, "connections"); list != nullptr && list->is_array()) {
    for (auto& entry : *list) {
      if (!entry.is_object()) continue;
      // Secrets, and the files that hold them on the appliance.
      for (const auto& m : policy::kConnectionMembers) {
        if (m.exposure == policy::MemberExposure::secret || m.exposure == policy::MemberExposure::appliance_file) {
          erase_wiped(entry, m.key);
        }
      }
      if (auto* fields = azure_fields(entry)) erase_wiped(*fields, "sharedKey");
    }
  }
  return document;
}

void refuse_key_files(const nlohmann::json& document, Diagnostics& diagnostics) {
  auto copy = document;
  auto* list = member(copy, "connections");
  if (list == nullptr || !list->is_array()) return;
  for (size_t i = 0; i < list->size(); ++i) {
    for (const auto& m : policy::kConnectionMembers) {
      if (m.exposure != policy::MemberExposure::appliance_file || member((*list)[i], m.key) == nullptr) continue;
      diagnostics.error("connections[" + std::to_string(i) + "]." + std::string(m.key),
                        "not accepted over the API (it names a file on the appliance); give " + std::string(m.instead));
    }
  }
}

std::optional<Candidate> finish(policy::ApplianceConfig config, nlohmann::json document,
                                const store::SecretMap& carried, Diagnostics& diagnostics) {
  Candidate candidate;
  for (auto& spec : config.connections) {
    if (spec.azure.shared_key.empty()) {
      if (auto it = carried.find(spec.name); it != carried.end()) spec.azure.shared_key = it->second;
    }
    if (!spec.azure.shared_key.empty()) candidate.secrets.insert_or_assign(spec.name, spec.azure.shared_key);
    const std::string password_name = store::bgp_password_secret(spec.name);
    if (!spec.bgp_password) {
      if (auto it = carried.find(password_name); it != carried.end()) {
        spec.bgp_password = it->second;
        spec.bgp_password_path = spec.source_path + ".bgpPassword";
      }
    }
    if (spec.bgp_password) candidate.secrets.insert_or_assign(password_name, *spec.bgp_password);
  }
  policy::validate_configuration(config, diagnostics);
  if (diagnostics.has_errors()) return std::nullopt;
  candidate.document = without_secrets(std::move(document));
  candidate.config = std::move(config);
  return candidate;
}

}  // namespace

std::optional<Candidate> prepare_candidate(const nlohmann::json& original, SecretSources sources,
                                           const std::filesystem::path& base_dir, const store::SecretMap& carried,
                                           Diagnostics& diagnostics) {
  if (!original.is_object() || policy::is_bare_connection_object(original)) {
    diagnostics.error("", "the configuration must be an object with \"connections\" (ergw's configuration "
                          "format); a single connection goes to PUT /v1/connections/{name}");
    return std::nullopt;
  }
  if (sources == SecretSources::inline_only) refuse_key_files(original, diagnostics);
  auto config = policy::read_configuration(original, base_dir, diagnostics);
  if (!config) return std::nullopt;
  return finish(std::move(*config), original, carried, diagnostics);
}

std::optional<Candidate> candidate_from_revision(const nlohmann::json& document, store::SecretMap secrets,
                                                 Diagnostics& diagnostics) {
  auto config = policy::read_configuration(document, "/nonexistent", diagnostics);
  if (!config) return std::nullopt;
  return finish(std::move(*config), document, secrets, diagnostics);
}

std::string export_text(const nlohmann::json& document, const store::SecretMap& secrets,
                        const std::filesystem::path& key_dir) {
  nlohmann::json out = document;
  Diagnostics ignored;
  auto config = policy::read_configuration(document, "/nonexistent", ignored);
  auto* list = member(out, "connections");
  if (config && list != nullptr && list->is_array()) {
    for (const auto& spec : config->connections) {
      // source_path is "connections[i]".
      const auto open = spec.source_path.find('[');
      if (open == std::string::npos) continue;
      const size_t index = std::stoul(spec.source_path.substr(open + 1));
      if (index >= list->size()) continue;
      if (secrets.count(spec.name)) (*list)[index]["sharedKeyFile"] = secret_file(key_dir, spec.name).string();
      const auto password = store::bgp_password_secret(spec.name);
      if (secrets.count(password)) (*list)[index]["bgpPasswordFile"] = secret_file(key_dir, password).string();
    }
  }
  return out.dump(2) + "\n";
}

std::filesystem::path secret_file(const std::filesystem::path& key_dir, const std::string& secret_name) {
  if (auto connection = store::bgp_password_connection(secret_name)) return key_dir / (*connection + ".bgp-password");
  return key_dir / (secret_name + ".psk");
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kDigits[digest[i] >> 4];
    out += kDigits[digest[i] & 15];
  }
  return out;
}

}  // namespace ergw::api
