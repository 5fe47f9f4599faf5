#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/system_error.h"

namespace ergw {
namespace {

// Closes and removes the temporary file on every early return.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string path) : path_(std::move(path)) {}
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) ::unlink(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  Status create(mode_t mode) {
    ::unlink(path_.c_str());
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd_ < 0) return system_error("cannot create " + path_, errno);
    // The umask can only narrow the mode, but make it explicit anyway.
    if (::fchmod(fd_, mode) != 0) return system_error("cannot set the mode of " + path_, errno);
    return Status::success();
  }
  Status write_all(const std::string& text) {
    size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return system_error("cannot write " + path_, n < 0 ? errno : EIO);
      written += static_cast<size_t>(n);
    }
    return Status::success();
  }
  Status flush_and_close() {
    if (::fsync(fd_) != 0) return system_error("cannot flush " + path_, errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return system_error("cannot close " + path_, errno);
    return Status::success();
  }
  Status rename_to(const std::string& target) {
    if (::rename(path_.c_str(), target.c_str()) != 0) {
      return system_error("cannot rename " + path_ + " to " + target, errno);
    }
    kept_ = true;
    return Status::success();
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool kept_ = false;
};

}  // namespace

Status write_file_atomically(const std::string& path, const std::string& text, const FileOptions& options) {
  TemporaryFile temporary(path + ".tmp");
  if (Status s = temporary.create(options.mode); !s) return s;
  if (options.uid || options.gid) {
    const uid_t uid = options.uid.value_or(static_cast<uid_t>(-1));
    const gid_t gid = options.gid.value_or(static_cast<gid_t>(-1));
    if (::fchown(temporary.fd(), uid, gid) != 0) {
      return system_error("cannot give " + temporary.path() + " to uid " + std::to_string(uid) + " gid " +
                          std::to_string(gid),
                      errno);
    }
  }
  if (Status s = temporary.write_all(text); !s) return s;
  if (Status s = temporary.flush_and_close(); !s) return s;
  return temporary.rename_to(path);
}

}  // namespace ergw
