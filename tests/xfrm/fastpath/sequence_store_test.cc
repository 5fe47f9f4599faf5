#include "xfrm/fastpath/sequence_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/xfrm/fastpath/temp_sequence_file.h"

namespace ergw::xfrm::fastpath {
namespace {

struct TempFile : testing::TempSequenceFile {
  // A store loaded from a file holding `text`; `status` is what load() said.
  SequenceStore load(const std::string& text, Status& status) const {
    std::ofstream(path, std::ios::trunc) << text;
    SequenceStore store(path);
    status = store.load();
    return store;
  }
};

TEST(SequenceStore, KeepsSequenceIvSeedAgeAndCounters) {
  TempFile file;
  const SequenceStore::Key key{0xc0000001, *IpAddress::parse("172.16.0.2"), false};
  {
    SequenceStore store(file.path);
    store.put(key, {1234, 0x1122334455667788ULL, 1700000000, 98765, 123456789012ULL});
    ASSERT_TRUE(store.save().ok());
  }
  SequenceStore loaded(file.path);
  ASSERT_TRUE(loaded.load().ok());
  const SequenceRecord* r = loaded.find(key);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->sequence, 1234U);
  EXPECT_EQ(r->iv_seed, 0x1122334455667788ULL);
  EXPECT_EQ(r->added_unix, 1700000000);
  EXPECT_EQ(r->packets, 98765U);
  EXPECT_EQ(r->bytes, 123456789012ULL);
}

TEST(SequenceStore, ReadsLinesWrittenBeforeCountersWereKept) {
  TempFile file;
  Status status;
  const SequenceStore store = file.load("3221225473 172.16.0.2 out 77 5 1700000000\n", status);
  ASSERT_TRUE(status.ok()) << "an upgrade must not lose the sequence numbers";
  const SequenceRecord* r = store.find({3221225473U, *IpAddress::parse("172.16.0.2"), false});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->sequence, 77U);
  EXPECT_EQ(r->packets, 0U);
  EXPECT_EQ(r->bytes, 0U);
}

TEST(SequenceStore, RefusesADamagedLine) {
  TempFile file;
  Status s;
  const SequenceStore store = file.load("3221225473 172.16.0.2 out 77 5 1700000000 10 twenty\n", s);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find(":1: not a sequence record"), std::string::npos) << s.error();
  EXPECT_EQ(store.size(), 0U);
}

}  // namespace
}  // namespace ergw::xfrm::fastpath
