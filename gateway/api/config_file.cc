#include "gateway/api/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "gateway/api/config_candidate.h"

namespace ergw::api {

Status write_file_atomically(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  const auto temporary = dir / ("." + path.filename().string() + ".tmp");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error{"cannot write " + temporary.string() + ": " + std::strerror(errno)};
  ::fchmod(fd, mode);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Error{"cannot write " + temporary.string() + ": " + std::strerror(errno)};
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Error{"cannot sync " + temporary.string()};
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return Error{"cannot replace " + path.string() + ": " + std::strerror(errno)};
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::success();
}

ConfigFile::ConfigFile(std::filesystem::path path, std::filesystem::path key_dir)
    : path_(std::move(path)), key_dir_(std::move(key_dir)) {
  if (key_dir_.empty()) key_dir_ = path_.parent_path() / "keys";
}

Result<std::string> ConfigFile::read_text() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return Error{path_.string() + " cannot be read"};
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string ConfigFile::export_hash(const nlohmann::json& document, const store::SecretMap& secrets) const {
  return sha256_hex(export_text(document, secrets, key_dir_));
}

Status ConfigFile::write(const nlohmann::json& document, const store::SecretMap& secrets) const {
  std::error_code ec;
  std::filesystem::create_directories(key_dir_, ec);
  ::chmod(key_dir_.c_str(), 0700);
  std::set<std::string> wanted;
  for (const auto& [name, secret] : secrets) {
    const auto file = secret_file(key_dir_, name);
    wanted.insert(file.filename().string());
    if (auto s = write_file_atomically(file, secret.reveal() + "\n", 0600); !s) return s;
  }
  // The key directory is ergwd's: keys of connections that are gone go too.
  for (const auto& entry : std::filesystem::directory_iterator(key_dir_, ec)) {
    const auto extension = entry.path().extension();
    if ((extension == ".psk" || extension == ".bgp-password") && !wanted.count(entry.path().filename().string())) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
  return write_file_atomically(path_, export_text(document, secrets, key_dir_), 0640);
}

}  // namespace ergw::api
