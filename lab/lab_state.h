// The lab's state directory, /run/ergw-lab/<labid>/, and its owner record
// (owner.json): who owns the lab, which namespaces and daemons belong to it.
// The record is written before the first namespace exists and rewritten
// whenever a daemon's pid changes, so a lab whose owner died (SIGKILL, crash)
// can always be found and removed by cleanup_stale().
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "lab/lab_config.h"

namespace ergw::lab {

struct DaemonRecord {
  std::string name;
  std::string netns;
  pid_t pid = 0;  // 0 while (re)starting
};

struct OwnerRecord {
  std::string labid;
  pid_t owner_pid = 0;
  unsigned long long owner_start_time = 0;  // /proc/PID/stat starttime, guards against pid reuse
  bool keep = false;                        // kept labs are never stale; remove with teardown_lab
  std::vector<std::string> namespaces;
  std::vector<DaemonRecord> daemons;

  std::string to_json() const;
  static Result<OwnerRecord> from_json(const std::string& text);
};

inline constexpr const char* kOwnerRecordFile = "owner.json";

// Written to a temporary file and renamed, so readers never see half a record.
Status write_owner_record(const std::filesystem::path& lab_dir, const OwnerRecord& record);
Result<OwnerRecord> read_owner_record(const std::filesystem::path& lab_dir);

// The recorded owner process still runs (same pid and start time).
bool owner_alive(const OwnerRecord& record);

struct LabListing {
  std::string labid;
  std::filesystem::path dir;
  std::optional<OwnerRecord> record;  // empty when owner.json is missing or unreadable
  bool stale = false;                 // owner dead and not kept
};
std::vector<LabListing> list_labs(const std::filesystem::path& state_root);

// Removes a lab by id whatever its owner's state: ends the processes in its
// namespaces, deletes the namespaces and the state directory.
Status teardown_lab(const std::filesystem::path& state_root, const std::string& labid,
                    const ProgressSink& progress = {});

// Removes every lab whose owner is dead and that was not kept; returns their ids.
std::vector<std::string> cleanup_stale(const std::filesystem::path& state_root = "/run/ergw-lab",
                                       const ProgressSink& progress = {});

}  // namespace ergw::lab
