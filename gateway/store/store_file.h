// The store's file: one SQLite database holding configuration revisions, their
// secrets (a table never returned by any reader of revisions) and API keys.
// Opened in WAL mode with synchronous=FULL, so that a committed transaction
// survives a crash or a power cut and readers never wait for the writer. The
// file (and SQLite's -wal/-shm beside it) is created mode 0600 in a 0700
// directory: it holds PSKs.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "gateway/store/sqlite.h"

namespace ergw::store {

// Opens `path` (creating the schema on first use) for the one writer.
Result<std::unique_ptr<Database>> open_store(const std::string& path);
// A second connection for readers (the API's thread): never blocks the writer.
Result<std::unique_ptr<Database>> open_store_reader(const std::string& path);

}  // namespace ergw::store
