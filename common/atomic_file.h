// Writing a configuration file that another daemon reads (BIRD's bird.conf,
// charon's strongswan.conf fragment): the reader sees the old file or the new
// one, never half of one. A temporary file in the same directory is created
// with O_EXCL|O_NOFOLLOW (a planted symlink cannot redirect the write),
// written, fsync'ed and renamed over the target.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/result.h"

namespace ergw {

struct FileOptions {
  // 0600 for anything holding a secret (BIRD's TCP MD5 passwords); 0644 for
  // files that hold none.
  mode_t mode = 0600;
  // Give the file to this uid/gid (a daemon that drops its privileges before
  // it reads the file again).
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// Errors carry ErrorCode::io and name the file and the system's reason.
Status write_file_atomically(const std::string& path, const std::string& text, const FileOptions& options = {});

}  // namespace ergw
