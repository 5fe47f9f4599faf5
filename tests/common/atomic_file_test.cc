// write_file_atomically: mode, replacement, refusal to follow a planted link,
// errors with the code of the system's errno (common/system_error.h).
#include "common/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ergw {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("ergw-atomic-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static mode_t mode_of(const fs::path& p) {
    struct stat st{};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, WritesWithTheModeAndReplaces) {
  const auto file = dir_ / "bird.conf";
  ASSERT_TRUE(write_file_atomically(file, "first\n"));
  EXPECT_EQ(read(file), "first\n");
  EXPECT_EQ(mode_of(file), 0600u) << "secret-bearing by default";
  FileOptions open;
  open.mode = 0644;
  ASSERT_TRUE(write_file_atomically(file, "second\n", open));
  EXPECT_EQ(read(file), "second\n");
  EXPECT_EQ(mode_of(file), 0644u);
  EXPECT_FALSE(fs::exists(dir_ / "bird.conf.tmp")) << "no temporary file left";
}

TEST_F(AtomicFileTest, APlantedSymlinkIsNotFollowed) {
  const auto victim = dir_ / "victim";
  std::ofstream(victim) << "untouched";
  fs::create_symlink(victim, dir_ / "x.conf.tmp");
  ASSERT_TRUE(write_file_atomically(dir_ / "x.conf", "data"));
  EXPECT_EQ(read(victim), "untouched");
  EXPECT_EQ(read(dir_ / "x.conf"), "data");
}

TEST_F(AtomicFileTest, FailureNamesTheFileAndHasTheSystemsCode) {
  const auto missing = dir_ / "no-such-dir" / "f.conf";
  Status s = write_file_atomically(missing, "data");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error_code(), ErrorCode::not_found) << "ENOENT: the directory is not there";
  EXPECT_NE(s.error().find("no-such-dir"), std::string::npos) << s.error();
  EXPECT_EQ(s.error().find("data"), std::string::npos) << "the content is never in the error";
}

}  // namespace
}  // namespace ergw
