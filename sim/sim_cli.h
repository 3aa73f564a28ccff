// The `herd sim` and `herd replay` subcommands. sim/herd_main.cc dispatches to
// them with argv starting after the subcommand word ("herd sim x.json --json" ->
// argc 2, argv {"x.json", "--json"}). They print to stdout/stderr and return the
// process exit status:
//   0  success (sim: every check held; replay: every output matched)
//   1  a check failed (sim: an "expect" or an invariant, with the seed and the
//      command that replays it; --check-determinism: the runs differ, with the first
//      differing event), or replay diverged (naming the first divergent event)
//   2  usage error or bad input (unknown flag, bad value, bad scenario or trace)
//
//   herd sim SCENARIO.json [--seed N] [--json] [--record TRACE] [--check-determinism]
//   herd replay TRACE [--record OUT]
#pragma once

namespace herd {

int sim_command(int argc, char** argv);
int replay_command(int argc, char** argv);

}  // namespace herd
