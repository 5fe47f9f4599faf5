// Named network namespaces through iproute2 (`ip netns`, `ip -n NS ...`). Every
// change the lab makes goes through these, inside its own namespaces; nothing
// here touches the root namespace's addresses or routes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "host/process.h"

namespace ergw::lab {

bool netns_exists(const std::string& name);
Status create_netns(const std::string& name);
// Kills the processes inside (they can only be ours: the name is unique to one
// lab) and deletes the namespace. Missing namespaces are not an error.
Status delete_netns(const std::string& name);

// Pids of the processes whose network namespace is `name` (`ip netns pids`).
std::vector<pid_t> netns_pids(const std::string& name);

// `ip -n NS <args...>`; returns the command's error text on failure.
Status ip_in(const std::string& ns, const std::vector<std::string>& args);
// `ip netns exec NS <argv...>`, output captured.
host::CommandResult exec_in(const std::string& ns, const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
// sysctl -w inside the namespace (`ip netns exec NS sysctl -qw key=value`).
Status sysctl_in(const std::string& ns, const std::string& key, const std::string& value);

// Names of all named namespaces (`ip netns list`), for tests and cleanup.
std::vector<std::string> list_netns();

}  // namespace ergw::lab
