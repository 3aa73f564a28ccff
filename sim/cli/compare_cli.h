// `herd compare A.json B.json` (sim/cli/compare_cli.cc).
#pragma once

namespace herd {

// argv starts after the subcommand word. Exit status: 0 printed, 2 bad usage or input.
int compare_command(int argc, char** argv);

}  // namespace herd
