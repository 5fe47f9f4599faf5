// ConfigFile: the configuration file beside the store (the file workflow).
// The active revision is exported to it after every change, each PSK and BGP
// password in its own key file (mode 0600) under a key directory ergwd manages; an edit of
// the file (SIGHUP, or made while ergwd was stopped) is read back through
// the same validation as the API.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "gateway/store/revision.h"

namespace ergw::api {

class ConfigFile {
 public:
  // `key_dir` empty: <the file's directory>/keys.
  ConfigFile(std::filesystem::path path, std::filesystem::path key_dir);

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& key_dir() const { return key_dir_; }
  std::filesystem::path base_dir() const { return path_.parent_path(); }

  // The file's text, or why it cannot be read.
  Result<std::string> read_text() const;
  // Writes the revision: key files first (atomically, 0600; keys of
  // connections that are gone removed), then the configuration (atomically).
  Status write(const nlohmann::json& document, const store::SecretMap& secrets) const;
  // SHA-256 of what write() puts into the configuration file.
  std::string export_hash(const nlohmann::json& document, const store::SecretMap& secrets) const;

 private:
  std::filesystem::path path_;
  std::filesystem::path key_dir_;
};

// Writes `text` to `path` so that a reader (or a crash) sees the old file or
// the new one, never a part: a temporary file beside it, synced, renamed over,
// and the directory synced.
Status write_file_atomically(const std::filesystem::path& path, const std::string& text, mode_t mode);

}  // namespace ergw::api
