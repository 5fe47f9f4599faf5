// RevisionStore: the configuration's history, the active revision and the one
// pending a confirmation (commit-confirm). Every change is one SQLite
// transaction, so a process killed at any moment leaves either the old or the
// new head, never a mix; the confirmation deadline is part of the head and
// survives a restart.
//
// Used by one writer (ergwd's management service). Readers on other threads
// open their own connection (open_store_reader) and use the read methods.
#pragma once

#include <memory>
#include <vector>

#include "common/result.h"
#include "gateway/store/revision.h"
#include "gateway/store/sqlite.h"

namespace ergw::store {

struct RevisionStoreOptions {
  // Revisions kept; older ones are pruned at each commit (never the active,
  // pending or fallback revision).
  int keep = 50;
};

class RevisionStore {
 public:
  RevisionStore(Database& db, RevisionStoreOptions options = {});

  Result<Head> head();

  // Stores `revision` and makes it active, in one transaction. With a
  // deadline it is also pending: revert_pending() returns to today's active
  // revision unless confirm() comes first. Refused while another is pending.
  Result<RevisionId> commit(const NewRevision& revision, std::optional<int64_t> confirm_deadline = std::nullopt);
  // Clears the pending state: the active revision stays.
  Status confirm();
  // Makes the fallback active again and marks the pending revision reverted
  // with `why`. Returns the revision now active.
  Result<RevisionId> revert_pending(const std::string& why, int64_t now);
  // Marks a revision reverted without a confirmation involved (its apply
  // failed) and makes `back_to` active again.
  Status revert_to(RevisionId failed, RevisionId back_to, const std::string& why, int64_t now);

  // The apply result of a revision (JSON text).
  Status set_outcome(RevisionId id, const std::string& outcome);

  Result<std::optional<Revision>> get(RevisionId id);
  // Newest first.
  Result<std::vector<RevisionInfo>> list();
  // For applying only: the PSKs of a revision.
  Result<SecretMap> secrets(RevisionId id);
  // The newest revision that exports to a file with this hash, if any.
  Result<std::optional<RevisionId>> revision_with_export(const std::string& export_hash);

  // The content hash a revision with this document and these secrets would
  // get: SHA-256 over the document and an HMAC (with a key kept in the store)
  // of each secret, so equal PSKs are recognised without a bare hash of a
  // PSK being stored anywhere.
  Result<std::string> content_hash(const std::string& document, const SecretMap& secrets);

 private:
  Result<std::string> hmac_key();
  Status prune();
  Status write_head(const Head& head);

  Database& db_;
  RevisionStoreOptions options_;
  std::string hmac_key_;
};

// Read-only helpers for a reader connection (the same queries, no writes).
Result<Head> read_head(Database& db);
Result<std::optional<Revision>> read_revision(Database& db, RevisionId id);
Result<std::vector<RevisionInfo>> read_revisions(Database& db);
// The connections whose PSK differs between two revisions (added, removed or
// replaced): names only, compared inside SQLite.
Result<std::vector<std::string>> read_changed_secrets(Database& db, RevisionId from, RevisionId to);

}  // namespace ergw::store
