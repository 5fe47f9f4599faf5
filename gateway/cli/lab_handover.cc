#include "gateway/cli/lab_handover.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace ergw::cli {

void add_lab_command(CLI::App& app) {
  app.add_subcommand("lab",
                     "Run the lab: a real tunnel to a simulated Azure VPN gateway, with traffic "
                     "(runs ergw-lab; `ergw lab --help` for its options)")
      ->allow_extras();
}

int hand_over_to_lab(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "lab") != 0) return -1;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) self = std::filesystem::absolute(argv[0]);
  const auto lab_binary = (self.parent_path() / "ergw-lab").string();

  std::vector<std::string> args{lab_binary};
  const bool down = argc > 2 && std::strcmp(argv[2], "down") == 0;
  if (!down) args.emplace_back("run");
  for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> exec_args;
  for (auto& a : args) exec_args.push_back(a.data());
  exec_args.push_back(nullptr);
  execv(lab_binary.c_str(), exec_args.data());
  std::cerr << "ergw lab: cannot start " << lab_binary << ": " << std::strerror(errno)
            << " (the lab ships separately from the product binaries)\n";
  return 1;
}

}  // namespace ergw::cli
