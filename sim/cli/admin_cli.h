// `herd admin [HOST:]PORT` (sim/cli/admin_cli.cc): a client of the herd's console.
#pragma once

namespace herd {

// argv starts after the subcommand word. Exit status: 0 done, 1 refused or the
// connection failed, 2 bad usage.
int admin_command(int argc, char** argv);

}  // namespace herd
