#include "lab/netns.h"

#include <signal.h>

#include <sstream>
#include <thread>

namespace ergw::lab {
namespace {

Status checked(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const host::CommandResult r = host::run_command(argv, timeout);
  if (!r.ok()) return Error{r.describe(argv)};
  return {};
}

}  // namespace

std::vector<std::string> list_netns() {
  const host::CommandResult r = host::run_command({"ip", "netns", "list"});
  std::vector<std::string> names;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    // "name (id: 3)" or just "name".
    const auto space = line.find(' ');
    names.push_back(line.substr(0, space));
  }
  return names;
}

bool netns_exists(const std::string& name) {
  for (const auto& n : list_netns()) {
    if (n == name) return true;
  }
  return false;
}

Status create_netns(const std::string& name) { return checked({"ip", "netns", "add", name}); }

std::vector<pid_t> netns_pids(const std::string& name) {
  const host::CommandResult r = host::run_command({"ip", "netns", "pids", name}, std::chrono::seconds(10));
  std::vector<pid_t> pids;
  std::istringstream words(r.out);
  long pid = 0;
  while (words >> pid) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

Status delete_netns(const std::string& name) {
  if (!netns_exists(name)) return {};
  // The namespace outlives its name while a process holds it; end them first.
  for (int round = 0; round < 2; ++round) {
    const auto pids = netns_pids(name);
    if (pids.empty()) break;
    for (pid_t pid : pids) kill(pid, round == 0 ? SIGTERM : SIGKILL);
    for (int i = 0; i < 100; ++i) {
      bool any = false;
      for (pid_t pid : pids) {
        host::reap_if_exited(pid);
        any = any || host::process_alive(pid);
      }
      if (!any) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
  }
  return checked({"ip", "netns", "delete", name});
}

Status ip_in(const std::string& ns, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip", "-n", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  return checked(argv);
}

host::CommandResult exec_in(const std::string& ns, const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout) {
  std::vector<std::string> full = {"ip", "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return host::run_command(full, timeout);
}

Status sysctl_in(const std::string& ns, const std::string& key, const std::string& value) {
  return checked({"ip", "netns", "exec", ns, "sysctl", "-qw", key + "=" + value});
}

}  // namespace ergw::lab
