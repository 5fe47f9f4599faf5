// Lab helpers: real charon daemons, each in its own network namespace with a
// private /run (so the host's pid file and socket are never touched), joined by a
// veth pair. Everything created here is removed by the destructors, on every
// exit path; charon also gets SIGKILL if the test process dies (PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ergw::vici::lab {

// Runs a program and waits; returns its exit status (or -1). Output goes to
// /dev/null unless `output` is given.
int run(const std::vector<std::string>& argv, std::string* output = nullptr);

// Why the lab cannot run here, or "" if it can (root, charon, ip, TUN, netns).
std::string missing_prerequisite();

// A directory under /tmp removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Two namespaces "ergw-vici-<pid>-<tag>-a"/"-b" joined by veth, 192.0.2.1/24 on
// a and 192.0.2.2/24 on b; inside addresses 10.10.1.1 (a) and 10.10.2.1 (b).
class NamespacePair {
 public:
  explicit NamespacePair(const std::string& tag);
  ~NamespacePair();
  NamespacePair(const NamespacePair&) = delete;
  NamespacePair& operator=(const NamespacePair&) = delete;
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }

 private:
  std::string a_;
  std::string b_;
  bool ok_ = false;
  std::string error_;
};

// One charon in a namespace, its strongswan.conf, vici socket and log in `dir`.
// `settings` adds lines to its charon section (e.g. "retransmit_tries = 2").
class Charon {
 public:
  Charon(std::string netns, std::string dir, std::string name, std::string settings = "");
  ~Charon();
  Charon(const Charon&) = delete;
  Charon& operator=(const Charon&) = delete;

  const std::string& socket_path() const { return socket_path_; }
  void start();
  // SIGKILL, as a crash would; waits for the process.
  void kill_hard();
  // SIGTERM, then SIGKILL if it lingers.
  void stop();
  bool running() const { return pid_ > 0; }
  std::string log_tail(std::size_t lines = 40) const;

 private:
  std::string netns_;
  std::string dir_;
  std::string conf_path_;
  std::string socket_path_;
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace ergw::vici::lab
