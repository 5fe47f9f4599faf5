// A sequence file for one test: created empty under /tmp, removed with the
// ".tmp" sibling that SequenceStore's atomic write leaves while it saves.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace ergw::xfrm::fastpath::testing {

struct TempSequenceFile {
  std::string path;
  TempSequenceFile() {
    char name[] = "/tmp/ergw-seq-XXXXXX";
    const int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    if (fd >= 0) ::close(fd);
    path = name;
  }
  ~TempSequenceFile() {
    std::remove(path.c_str());
    std::remove((path + ".tmp").c_str());
  }
  TempSequenceFile(const TempSequenceFile&) = delete;
  TempSequenceFile& operator=(const TempSequenceFile&) = delete;
};

}  // namespace ergw::xfrm::fastpath::testing
