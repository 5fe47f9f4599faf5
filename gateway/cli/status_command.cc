#include "gateway/cli/status_command.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>

#include "common/parse_json.h"
#include "gateway/cli/api_client.h"

namespace ergw::cli {

Result<nlohmann::json> ask_ergwd(const std::string& socket_path, const nlohmann::json& request) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  std::unique_ptr<int, void (*)(int*)> guard(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path)) return Error{"socket path too long: " + socket_path};
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Error{"cannot reach ergwd at " + socket_path + ": " + std::strerror(errno) + " (is ergwd running?)"};
  }
  timeval timeout{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const std::string line = request.dump() + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    return Error{std::string("sending to ergwd failed: ") + std::strerror(errno)};
  }
  std::string reply;
  char buffer[4096];
  while (reply.find('\n') == std::string::npos && reply.size() < (16u << 20)) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  auto json = parse_json(reply);
  if (!json) return Error{"ergwd's reply is not JSON (timed out or cut short)"};
  return *json;
}

namespace {

std::string text(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "-";
  if (j[key].is_string()) return j[key].get<std::string>().empty() ? "-" : j[key].get<std::string>();
  return j[key].dump();
}

std::string duration(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return "-";
  auto s = j[key].get<uint64_t>();
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h";
  if (s >= 60) out << (s % 3600) / 60 << "m";
  out << s % 60 << "s";
  return out.str();
}

std::string bytes(uint64_t value) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(value);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  std::ostringstream out;
  out.precision(u == 0 ? 0 : 1);
  out << std::fixed << v << " " << units[u];
  return out.str();
}

// BGP sessions and learned routes (ergwd's BgpController, docs/bgp.md).
void format_bgp(const nlohmann::json& status, std::ostringstream& out) {
  if (!status.contains("bgp") || !status["bgp"].value("enabled", false)) return;
  const auto& bgp = status["bgp"];
  const auto& bird = bgp.value("bird", nlohmann::json::object());
  out << "\nBGP (BIRD " << (bird.value("running", false) ? "pid " + text(bird, "pid") : std::string("not running"))
      << ", restarts " << text(bird, "restarts") << ", table " << text(bgp, "table") << ")\n";
  if (bird.contains("error")) out << "  BIRD: " << text(bird, "error") << "\n";
  if (bird.contains("note")) out << "  BIRD: " << text(bird, "note") << "\n";
  // "for": how long the session has been in its state (its uptime when
  // Established); "filt": routes Azure sent that the import filter refused.
  out << "  session            neighbor          AS      state        for       in    filt  out   last error\n";
  for (const auto& s : bgp.value("sessions", nlohmann::json::array())) {
    char line[512];
    std::snprintf(line, sizeof(line), "  %-18s %-17s %-7s %-12s %-9s %-5s %-5s %-5s %s\n", text(s, "connection").c_str(),
                  text(s, "neighbor").c_str(), text(s, "neighbor_as").c_str(), text(s, "state").c_str(),
                  duration(s, "in_state_seconds").c_str(), text(s, "prefixes_in").c_str(),
                  text(s, "prefixes_filtered").c_str(), text(s, "prefixes_out").c_str(), text(s, "last_error").c_str());
    out << line;
    if (s.contains("last_error_hint")) out << "    hint: " << text(s, "last_error_hint") << "\n";
    if (s.contains("error_wait_seconds")) {
      out << "    BIRD waits " << static_cast<int>(s["error_wait_seconds"].get<double>() + 0.999)
          << " s more before it tries again (after errors it waits " << text(s, "error_wait")
          << " s, doubling while they repeat)\n";
    }
  }
  for (const auto& r : bgp.value("routes", nlohmann::json::array())) {
    out << "  learned " << text(r, "prefix") << " dev " << text(r, "device") << " from " << text(r, "connection")
        << " [" << text(r, "as_path") << "]" << (r.value("installed", false) ? "" : "  (not in the kernel)") << "\n";
  }
}

// reason (code; likely cause) at time, then what charon saw, what to check,
// and charon's own line.
void format_failure(const std::string& lead, const nlohmann::json& f, std::ostringstream& out) {
  out << lead << text(f, "reason") << " (" << text(f, "code");
  if (text(f, "likely_cause") != "-") out << "; likely cause: " << text(f, "likely_cause");
  out << ") at " << text(f, "at") << "\n";
  if (text(f, "observed") != "-") out << "    observed: " << text(f, "observed") << "\n";
  out << "    hint: " << text(f, "hint") << "\n"
      << "    charon: " << text(f, "detail") << "\n";
}

// A connection that is not UP although its IKE SA is: which configured
// CHILDs (policy-based: prefix pairs) have no CHILD SA.
void format_missing_children(const nlohmann::json& c, std::ostringstream& out) {
  std::string missing;
  for (const auto& child : c.value("configured_children", nlohmann::json::array())) {
    if (child.value("coverage", "") == "installed") continue;
    missing += (missing.empty() ? "" : ", ") + text(child, "name") + " (" + text(child, "coverage") + ")";
  }
  if (!missing.empty() && c.contains("ike")) out << "  without a CHILD SA: " << missing << "\n";
}

// Refusals of peers no configured connection has (an address nobody expects).
void format_unattributed(const nlohmann::json& status, std::ostringstream& out) {
  const auto failures = status.value("unattributed_failures", nlohmann::json::array());
  if (failures.empty()) return;
  out << "\nIKE from peers no connection is configured for:\n";
  for (const auto& f : failures) format_failure("  " + text(f, "peer") + ": ", f, out);
}

// The fast path daemon (dataPlane fastpath): its state, then what is wrong
// with the data plane (warnings, a charon without the right backend).
void format_data_plane(const nlohmann::json& status, std::ostringstream& out) {
  const auto& plane = status.value("data_plane", nlohmann::json::object());
  if (plane.contains("charon_backend")) out << "DATA PLANE: " << text(plane, "charon_backend") << "\n";
  for (const auto& w : plane.value("warnings", nlohmann::json::array())) out << "DATA PLANE: " << w.get<std::string>() << "\n";
  for (const auto& d : plane.value("tunnel_mtu", nlohmann::json::array())) {
    out << "tunnel MTU: " << text(d, "device") << " " << text(d, "mtu") << " (" << text(d, "connection") << ": "
        << text(d, "why") << ")\n";
  }
  if (!status.contains("fastpath")) return;
  const auto& fp = status["fastpath"];
  out << "fast path: " << text(fp, "state") << (fp.contains("pid") ? "  pid " + text(fp, "pid") : std::string())
      << "  dev " << text(fp, "device") << "  restarts " << text(fp, "restarts");
  if (!fp.value("supervised", true)) out << "  (adopted from an earlier ergwd)";
  if (fp.contains("sas")) out << "  SAs " << text(fp, "sas") << ", policies " << text(fp, "policies") << ", routes " << text(fp, "routes");
  out << "\n";
  if (fp.contains("last_exit")) out << "  last exit: " << text(fp, "last_exit") << "\n";
  if (fp.contains("last_error")) out << "  last error: " << text(fp, "last_error") << "\n";
  if (fp.value("data_age_seconds", 0) > 3) out << "  counters as reported " << duration(fp, "data_age_seconds") << " ago\n";
  std::string table_drops;
  const nlohmann::json drops = fp.value("table_drops", nlohmann::json::object());
  for (const auto& [reason, count] : drops.items()) {
    if (count.is_number() && count.get<uint64_t>() != 0) table_drops += " " + reason + "=" + count.dump();
  }
  if (!table_drops.empty()) out << "  drops outside any connection:" << table_drops << "\n";
}

// A connection's counters in the fast path: never falling across rekeys.
void format_fastpath_counters(const nlohmann::json& c, std::ostringstream& out) {
  if (!c.contains("fastpath")) return;
  const auto& fp = c["fastpath"];
  out << "  fast path  in " << bytes(fp.value("bytes_in", 0ull)) << " / " << fp.value("packets_in", 0ull)
      << " pkts, out " << bytes(fp.value("bytes_out", 0ull)) << " / " << fp.value("packets_out", 0ull) << " pkts, drops:";
  bool any = false;
  const nlohmann::json drops = fp.value("drops", nlohmann::json::object());
  for (const auto& [reason, count] : drops.items()) {
    if (!count.is_number() || count.get<uint64_t>() == 0) continue;
    out << " " << reason << "=" << count.dump();
    any = true;
  }
  out << (any ? "" : " none") << "\n";
}

// The PFS probe: "pfs  verified at <time> (PFS2048, probe 35 ms)", or the
// mismatch with its finding (which carries the fix).
void format_pfs(const nlohmann::json& c, std::ostringstream& out) {
  if (!c.contains("pfs")) return;
  const auto& p = c["pfs"];
  const std::string state = text(p, "probe");
  out << "  pfs   ";
  if (state == "verified") {
    out << "verified at " << text(p, "verified_at") << " (pfsGroup " << text(p, "pfs_group");
    if (p.contains("probe_ms")) out << ", probe " << text(p, "probe_ms") << " ms";
    out << ")\n";
  } else if (state == "mismatch") {
    out << "MISMATCH since " << text(p, "mismatch_at") << "\n        " << text(p, "finding") << "\n";
    if (p.contains("detail")) out << "        charon: " << text(p, "detail") << "\n";
  } else if (state == "inconclusive") {
    out << "probe inconclusive: " << text(p, "finding") << "\n";
  } else if (state == "off") {
    out << "probe off (pfsProbe false)\n";
  } else if (state == "not_probed") {
    out << "not probed (pfsGroup " << text(p, "pfs_group") << "): " << text(p, "finding") << "\n";
  } else {
    out << state << " (pfsGroup " << text(p, "pfs_group") << ")\n";
  }
}

}  // namespace

std::vector<nlohmann::json> all_children(const nlohmann::json& connection) {
  std::vector<nlohmann::json> children = connection.value("children", nlohmann::json::array());
  for (const auto& d : connection.value("duplicates", nlohmann::json::array())) {
    for (const auto& child : d.value("children", nlohmann::json::array())) children.push_back(child);
  }
  return children;
}

std::string format_status(const nlohmann::json& status) {
  std::ostringstream out;
  out << "charon: " << text(status, "charon");
  if (status.contains("data_plane")) out << "   data plane: " << text(status["data_plane"], "kind");
  out << "\n";
  // A stopped or hung daemon: said first, before the state it last reported.
  for (const auto& d : status.value("not_answering", nlohmann::json::array())) {
    out << "NOT ANSWERING: " << text(d, "daemon") << ": " << text(d, "detail") << "\n";
  }
  if (status.contains("charon_error")) out << "charon: " << text(status, "charon_error") << "\n";
  format_data_plane(status, out);
  for (const auto& c : status.value("connections", nlohmann::json::array())) {
    out << "\n" << text(c, "name") << "  " << text(c, "state") << "  remote " << text(c, "remote")
        << (c.value("initiates", false) && c.value("azure_initiates", false) ? "  (both dial)"
            : c.value("initiates", false)                                   ? "  (ergw dials)"
                                                                            : "  (Azure dials)");
    if (c.contains("device")) out << "  dev " << text(c, "device") << " if_id " << text(c, "if_id");
    out << "\n";
    if (c.contains("ike")) {
      const auto& ike = c["ike"];
      out << "  IKE   " << text(ike, "state") << "  " << text(ike, "encryption") << "/" << text(ike, "integrity")
          << "/" << text(ike, "prf") << "/" << text(ike, "dh_group") << "  established "
          << duration(ike, "established_seconds") << " ago, rekey in " << duration(ike, "rekey_in_seconds") << "\n";
      if (c.value("ike_sas", 0) > 1) {
        out << "        " << c.value("ike_sas", 0)
            << " established IKE SAs (both sides dialled at once; traffic may enter by one and leave by "
               "another; DPD removes one the peer no longer has). CHILD SAs of all of them:\n";
      }
    }
    for (const auto& child : all_children(c)) {
      out << "  CHILD " << text(child, "name") << " " << text(child, "state") << "  " << text(child, "encryption");
      if (text(child, "integrity") != "-") out << "/" << text(child, "integrity");
      if (text(child, "pfs_group") != "-") out << "/" << text(child, "pfs_group");
      out << "  SPI in " << text(child, "spi_in") << " out " << text(child, "spi_out") << "\n"
          << "        in " << bytes(child.value("bytes_in", 0ull)) << " / " << child.value("packets_in", 0ull)
          << " pkts, out " << bytes(child.value("bytes_out", 0ull)) << " / " << child.value("packets_out", 0ull)
          << " pkts, installed " << duration(child, "installed_seconds") << " ago, rekey in "
          << duration(child, "rekey_in_seconds") << "\n";
    }
    // Configured CHILDs without an installed CHILD SA (a policy-based prefix
    // pair the peer did not take, or one being negotiated).
    std::string uncovered;
    for (const auto& child : c.value("configured_children", nlohmann::json::array())) {
      if (child.value("coverage", "") == "installed") continue;
      uncovered += (uncovered.empty() ? "" : ", ") + text(child, "name") + " (" + text(child, "coverage") + ")";
    }
    if (!uncovered.empty() && c.contains("ike")) out << "  without a CHILD SA: " << uncovered << "\n";
    format_fastpath_counters(c, out);
    for (const auto& r : c.value("routes", nlohmann::json::array())) {
      out << "  route " << text(r, "prefix") << " dev " << text(r, "device")
          << (r.value("installed", false) ? "" : "  (not installed yet)")
          << (r.value("carrying", true) ? "" : "  (standby: another tunnel carries it)") << "\n";
    }
    format_missing_children(c, out);
    format_pfs(c, out);
    if (c.contains("last_error")) format_failure("  last error: ", c["last_error"], out);
  }
  format_unattributed(status, out);
  format_bgp(status, out);
  return out.str();
}

void add_status_command(CLI::App& app, int& exit_code) {
  auto* status = app.add_subcommand("status", "Show tunnels, SAs, traffic, routes and errors (asks ergwd's API)");
  auto target = std::make_shared<ApiTarget>();
  auto json = std::make_shared<bool>(false);
  add_api_options(*status, target);
  status->add_flag("--json", *json, "print ergwd's JSON report");
  status->callback([target, json, &exit_code] {
    auto report = get_json(*target, "/v1/status", "status");
    if (!report) {
      exit_code = 1;
      return;
    }
    std::cout << (*json ? report->dump(2) + "\n" : format_status(*report));
    exit_code = 0;
  });
}

}  // namespace ergw::cli
