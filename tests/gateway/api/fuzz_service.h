// What both API fuzz targets run against: the real management service over
// the fake daemon (no delays) and a store of its own on tmpfs (/tmp when
// there is none), removed when the process ends.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "gateway/api/management_service.h"
#include "gateway/store/store_file.h"
#include "tests/gateway/api/fake_backend.h"

namespace ergw::api::testing {

struct FuzzService {
  // `name` tells the fuzz targets' directories apart.
  explicit FuzzService(const std::string& name) {
    dir = std::filesystem::path(std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp") /
          ("ergw-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = std::move(store::open_store((dir / "store.db").string()).value());
    audit = std::move(AuditLog::open("").value());
    FakeBackendOptions fake;
    fake.apply_delay = std::chrono::milliseconds(0);
    fake.up_delay = std::chrono::milliseconds(0);
    backend = std::make_unique<FakeBackend>(io, board, fake);
    ServiceOptions options;
    options.track_limit = std::chrono::milliseconds(0);
    service = std::make_unique<ManagementService>(io, *db, store::RevisionStoreOptions{10}, *backend, board, *audit,
                                                  options);
    (void)service->start();
  }
  ~FuzzService() { std::filesystem::remove_all(dir); }
  FuzzService(const FuzzService&) = delete;
  FuzzService& operator=(const FuzzService&) = delete;

  std::filesystem::path dir;
  boost::asio::io_context io;
  SnapshotBoard board;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<FakeBackend> backend;
  std::unique_ptr<ManagementService> service;
};

}  // namespace ergw::api::testing
