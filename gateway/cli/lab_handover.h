// `ergw lab ...` hands over to the lab binary, ergw-lab, installed beside
// ergw: the lab (namespaces, a simulated Azure VPN gateway) is test and demo
// code that the product binaries do not link.
#pragma once

#include <CLI/CLI.hpp>

namespace ergw::cli {

// Registers `lab` for --help; the hand-over itself happens in
// hand_over_to_lab() before the command line is parsed.
void add_lab_command(CLI::App& app);

// If argv is `ergw lab ARGS...`, replaces this process with
// `ergw-lab run ARGS...` (or `ergw-lab down LABID` for `ergw lab down LABID`).
// Returns only when argv is not a lab command, or with an exit code when the
// lab binary cannot be started.
int hand_over_to_lab(int argc, char** argv);

}  // namespace ergw::cli
