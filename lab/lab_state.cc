#include "lab/lab_state.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "lab/netns.h"
#include "host/process.h"

namespace ergw::lab {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A directory without a readable record (the owner died while creating it):
// its id still names the owner pid and the namespaces.
OwnerRecord record_from_labid(const std::string& labid) {
  OwnerRecord record;
  record.labid = labid;
  try {
    record.owner_pid = static_cast<pid_t>(std::stol(labid));
  } catch (...) {
    record.owner_pid = 0;
  }
  for (Node node : kEveryNode) record.namespaces.push_back(netns_name(labid, node));
  return record;
}

bool valid_labid(const std::string& labid) {
  if (labid.empty() || labid.size() > 32) return false;
  for (char c : labid) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

}  // namespace

std::string OwnerRecord::to_json() const {
  json daemons_json = json::array();
  for (const auto& d : daemons) daemons_json.push_back({{"name", d.name}, {"netns", d.netns}, {"pid", d.pid}});
  const json j = {{"labid", labid},           {"owner_pid", owner_pid}, {"owner_start_time", owner_start_time},
                  {"keep", keep},             {"namespaces", namespaces}, {"daemons", daemons_json}};
  return j.dump(2) + "\n";
}

Result<OwnerRecord> OwnerRecord::from_json(const std::string& text) {
  try {
    const json j = json::parse(text);
    OwnerRecord r;
    r.labid = j.at("labid").get<std::string>();
    r.owner_pid = j.at("owner_pid").get<pid_t>();
    r.owner_start_time = j.at("owner_start_time").get<unsigned long long>();
    r.keep = j.at("keep").get<bool>();
    r.namespaces = j.at("namespaces").get<std::vector<std::string>>();
    for (const auto& d : j.at("daemons")) {
      r.daemons.push_back({d.at("name").get<std::string>(), d.at("netns").get<std::string>(), d.at("pid").get<pid_t>()});
    }
    if (!valid_labid(r.labid)) return Error{"owner record: bad labid '" + r.labid + "'"};
    for (const auto& ns : r.namespaces) {
      // Only namespaces of this lab may ever be deleted on its behalf.
      if (ns.rfind("ergw-" + r.labid + "-", 0) != 0) return Error{"owner record: foreign namespace '" + ns + "'"};
    }
    return r;
  } catch (const std::exception& e) {
    return Error{std::string("owner record: ") + e.what()};
  }
}

Status write_owner_record(const fs::path& lab_dir, const OwnerRecord& record) {
  const fs::path final_path = lab_dir / kOwnerRecordFile;
  const fs::path temp_path = lab_dir / (std::string(kOwnerRecordFile) + ".tmp");
  {
    std::ofstream out(temp_path, std::ios::trunc);
    out << record.to_json();
    if (!out.flush()) return Error{"cannot write " + temp_path.string()};
  }
  std::error_code ec;
  fs::rename(temp_path, final_path, ec);
  if (ec) return Error{"cannot rename " + temp_path.string() + ": " + ec.message()};
  return {};
}

Result<OwnerRecord> read_owner_record(const fs::path& lab_dir) {
  std::ifstream in(lab_dir / kOwnerRecordFile);
  if (!in) return Error{"no owner record in " + lab_dir.string()};
  std::stringstream text;
  text << in.rdbuf();
  return OwnerRecord::from_json(text.str());
}

bool owner_alive(const OwnerRecord& record) {
  if (!host::process_alive(record.owner_pid)) return false;
  const auto start = host::process_start_time(record.owner_pid);
  return record.owner_start_time == 0 || (start && *start == record.owner_start_time);
}

std::vector<LabListing> list_labs(const fs::path& state_root) {
  std::vector<LabListing> labs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state_root, ec)) {
    if (!entry.is_directory()) continue;
    LabListing listing;
    listing.labid = entry.path().filename().string();
    if (!valid_labid(listing.labid)) continue;
    listing.dir = entry.path();
    auto record = read_owner_record(entry.path());
    if (record.ok()) listing.record = std::move(record.value());
    const OwnerRecord effective = listing.record ? *listing.record : record_from_labid(listing.labid);
    listing.stale = !effective.keep && !owner_alive(effective);
    labs.push_back(std::move(listing));
  }
  return labs;
}

Status teardown_lab(const fs::path& state_root, const std::string& labid, const ProgressSink& progress) {
  if (!valid_labid(labid)) return Error{"'" + labid + "' is not a lab id"};
  const fs::path dir = state_root / labid;
  auto record = read_owner_record(dir);
  const OwnerRecord effective = record.ok() ? record.value() : record_from_labid(labid);
  if (progress) progress("[lab " + labid + "] tearing down");
  Status first;
  // Daemons first (they hold the namespaces), by the pids the record names;
  // then anything else left inside the namespaces.
  for (const auto& d : effective.daemons) {
    bool inside = false;
    for (pid_t pid : netns_pids(d.netns)) inside = inside || pid == d.pid;
    if (d.pid > 0 && inside) host::terminate_process(d.pid);
  }
  for (const auto& ns : effective.namespaces) {
    Status s = delete_netns(ns);
    if (!s.ok() && first.ok()) first = s;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec && first.ok()) first = Error{"cannot remove " + dir.string() + ": " + ec.message()};
  return first;
}

std::vector<std::string> cleanup_stale(const fs::path& state_root, const ProgressSink& progress) {
  std::vector<std::string> removed;
  for (const auto& lab : list_labs(state_root)) {
    if (!lab.stale) continue;
    if (progress) progress("[lab " + lab.labid + "] owner is gone: removing stale lab");
    Status s = teardown_lab(state_root, lab.labid, progress);
    if (!s.ok() && progress) progress("[lab " + lab.labid + "] stale cleanup: " + s.error());
    removed.push_back(lab.labid);
  }
  return removed;
}

}  // namespace ergw::lab
