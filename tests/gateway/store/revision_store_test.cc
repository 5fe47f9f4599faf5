#include "gateway/store/revision_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/store/store_file.h"

namespace ergw::store {
namespace {

class RevisionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ergw-store-test-" + std::to_string(::getpid()) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "state" / "store.db").string();
    auto db = open_store(path_);
    ASSERT_TRUE(db) << db.error();
    db_ = std::move(db.value());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  NewRevision revision(const std::string& document, const std::string& psk = "secret-psk-value-1234567") {
    NewRevision r;
    r.document = document;
    r.secrets.emplace("hub", policy::Secret(psk));
    r.author = "ops";
    r.comment = "test";
    r.export_hash = "export-of-" + document;
    return r;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Database> db_;
};

TEST_F(RevisionStoreTest, OpensInWalModeWithFullSyncAndPrivateFiles) {
  EXPECT_EQ(db_->pragma("journal_mode").value(), "wal");
  EXPECT_EQ(db_->pragma("synchronous").value(), "2");  // FULL
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ / "state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(RevisionStoreTest, CommitMakesTheRevisionActiveWithItsParent) {
  RevisionStore store(*db_);
  EXPECT_FALSE(store.head()->active);
  auto first = store.commit(revision("{\"a\":1}"));
  ASSERT_TRUE(first) << first.error();
  auto second = store.commit(revision("{\"a\":2}"));
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(store.head()->active, second.value());
  auto got = store.get(second.value());
  ASSERT_TRUE(got && got.value());
  EXPECT_EQ(got.value()->info.parent, first.value());
  EXPECT_EQ(got.value()->document, "{\"a\":2}");
  EXPECT_EQ(got.value()->info.author, "ops");
  EXPECT_EQ(got.value()->info.origin, "api");
  auto list = store.list();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list.value()[0].id, second.value());  // newest first
}

TEST_F(RevisionStoreTest, SecretsAreKeptApartAndPerRevision) {
  RevisionStore store(*db_);
  auto first = store.commit(revision("{}", "first-key-aaaaaaaaaaaaaaaa"));
  auto second = store.commit(revision("{}", "second-key-bbbbbbbbbbbbbbb"));
  EXPECT_EQ(store.secrets(first.value())->at("hub").reveal(), "first-key-aaaaaaaaaaaaaaaa");
  EXPECT_EQ(store.secrets(second.value())->at("hub").reveal(), "second-key-bbbbbbbbbbbbbbb");
  // Nothing a revision reader returns carries the key.
  auto got = store.get(second.value());
  EXPECT_EQ(got.value()->document.find("second-key"), std::string::npos);
  EXPECT_EQ(got.value()->info.content_hash.find("second-key"), std::string::npos);
}

TEST_F(RevisionStoreTest, ContentHashSeesAChangedSecretWithoutStoringItsBareHash) {
  RevisionStore store(*db_);
  SecretMap a, b;
  a.emplace("hub", policy::Secret("key-one-xxxxxxxxxxxxxxx"));
  b.emplace("hub", policy::Secret("key-two-xxxxxxxxxxxxxxx"));
  auto ha = store.content_hash("{}", a);
  auto hb = store.content_hash("{}", b);
  ASSERT_TRUE(ha && hb);
  EXPECT_NE(ha.value(), hb.value());
  EXPECT_EQ(ha.value(), store.content_hash("{}", a).value());
  EXPECT_NE(ha.value(), store.content_hash("{ }", a).value());
}

TEST_F(RevisionStoreTest, ConfirmKeepsTheNewRevision) {
  RevisionStore store(*db_);
  auto first = store.commit(revision("{\"a\":1}"));
  auto second = store.commit(revision("{\"a\":2}"), 1'000'000);
  auto head = store.head();
  EXPECT_EQ(head->active, second.value());
  EXPECT_EQ(head->pending, second.value());
  EXPECT_EQ(head->fallback, first.value());
  EXPECT_EQ(head->confirm_deadline, 1'000'000);
  // Another write waits for the confirmation.
  EXPECT_FALSE(store.commit(revision("{\"a\":3}")));
  ASSERT_TRUE(store.confirm());
  head = store.head();
  EXPECT_EQ(head->active, second.value());
  EXPECT_FALSE(head->pending);
  EXPECT_FALSE(head->confirm_deadline);
  EXPECT_FALSE(store.confirm());  // nothing pending
}

TEST_F(RevisionStoreTest, RevertPendingReturnsToTheFallbackAndMarksTheRevision) {
  RevisionStore store(*db_);
  auto first = store.commit(revision("{\"a\":1}"));
  auto second = store.commit(revision("{\"a\":2}"), 1'000'000);
  auto back = store.revert_pending("confirmation deadline passed", 1'000'001);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back.value(), first.value());
  EXPECT_EQ(store.head()->active, first.value());
  EXPECT_FALSE(store.head()->pending);
  auto got = store.get(second.value());
  EXPECT_EQ(got.value()->info.reverted_at, 1'000'001);
  EXPECT_EQ(got.value()->info.reverted_why, "confirmation deadline passed");
}

TEST_F(RevisionStoreTest, ThePendingStateSurvivesReopening) {
  RevisionStoreOptions options;
  {
    RevisionStore store(*db_, options);
    ASSERT_TRUE(store.commit(revision("{\"a\":1}")));
    ASSERT_TRUE(store.commit(revision("{\"a\":2}"), 4242));
  }
  db_.reset();
  auto db = open_store(path_);
  ASSERT_TRUE(db);
  RevisionStore store(*db.value(), options);
  auto head = store.head();
  EXPECT_EQ(head->pending, 2);
  EXPECT_EQ(head->fallback, 1);
  EXPECT_EQ(head->confirm_deadline, 4242);
}

TEST_F(RevisionStoreTest, KeepsTheLastNButNeverWhatTheHeadNeeds) {
  RevisionStoreOptions options;
  options.keep = 3;
  RevisionStore store(*db_, options);
  auto first = store.commit(revision("{\"n\":1}"));
  for (int i = 2; i <= 6; ++i) ASSERT_TRUE(store.commit(revision("{\"n\":" + std::to_string(i) + "}")));
  auto list = store.list();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(list.value()[2].id, 4);
  EXPECT_FALSE(store.get(first.value()).value());
  // Secrets of pruned revisions go with them.
  auto count = db_->prepare("SELECT COUNT(*) FROM revision_secrets");
  ASSERT_TRUE(count->step().value());
  EXPECT_EQ(count->column_int(0), 3);
  // A pending revision keeps its fallback however many follow... none can follow
  // while pending; but the fallback survives the prune done by the commit.
  auto pending = store.commit(revision("{\"n\":7}"), 99);
  ASSERT_TRUE(pending);
  EXPECT_TRUE(store.get(6).value());
}

TEST_F(RevisionStoreTest, ExportHashesAreRecognised) {
  RevisionStore store(*db_);
  ASSERT_TRUE(store.commit(revision("{\"a\":1}")));
  ASSERT_TRUE(store.commit(revision("{\"a\":2}")));
  EXPECT_EQ(store.revision_with_export("export-of-{\"a\":1}").value(), 1);
  EXPECT_FALSE(store.revision_with_export("something else").value());
}

TEST_F(RevisionStoreTest, ChangedSecretsAreNamedNeverShown) {
  RevisionStore store(*db_);
  NewRevision a = revision("{}", "key-a-xxxxxxxxxxxxxxxxxx");
  a.secrets.emplace("spoke", policy::Secret("same-xxxxxxxxxxxxxxxxxxx"));
  a.secrets.emplace("gone", policy::Secret("gone-xxxxxxxxxxxxxxxxxxx"));
  NewRevision b = revision("{}", "key-b-xxxxxxxxxxxxxxxxxx");
  b.secrets.emplace("spoke", policy::Secret("same-xxxxxxxxxxxxxxxxxxx"));
  b.secrets.emplace("new", policy::Secret("new-xxxxxxxxxxxxxxxxxxxx"));
  auto first = store.commit(a);
  auto second = store.commit(b);
  auto changed = read_changed_secrets(*db_, first.value(), second.value());
  ASSERT_TRUE(changed) << changed.error();
  EXPECT_EQ(changed.value(), (std::vector<std::string>{"gone", "hub", "new"}));
}

TEST_F(RevisionStoreTest, OutcomeIsRecorded) {
  RevisionStore store(*db_);
  auto id = store.commit(revision("{}"));
  ASSERT_TRUE(store.set_outcome(id.value(), "{\"result\":\"applied\"}"));
  EXPECT_EQ(store.get(id.value()).value()->info.outcome, "{\"result\":\"applied\"}");
}

TEST_F(RevisionStoreTest, AReaderConnectionSeesCommitsAndCannotWrite) {
  RevisionStore store(*db_);
  auto reader = open_store_reader(path_);
  ASSERT_TRUE(reader) << reader.error();
  ASSERT_TRUE(store.commit(revision("{\"a\":1}")));
  EXPECT_EQ(read_head(*reader.value())->active, 1);
  EXPECT_EQ(read_revisions(*reader.value())->size(), 1u);
  EXPECT_FALSE(reader.value()->exec("DELETE FROM revisions"));
}

// A commit interrupted before COMMIT leaves nothing: the transaction is all or
// nothing (the SIGKILL test in the lab checks the same with a real process).
TEST_F(RevisionStoreTest, AnUnfinishedTransactionLeavesTheOldHead) {
  RevisionStore store(*db_);
  ASSERT_TRUE(store.commit(revision("{\"a\":1}")));
  {
    auto t = Transaction::begin(*db_);
    ASSERT_TRUE(t);
    ASSERT_TRUE(db_->exec("UPDATE head SET active = 99"));
    // destroyed without commit
  }
  EXPECT_EQ(store.head()->active, 1);
}

}  // namespace
}  // namespace ergw::store
