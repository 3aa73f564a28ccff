// The `herd sim` and `herd replay` subcommands. sim/herd_main.cc dispatches to
// them with argv starting after the subcommand word ("herd sim x.json --json" ->
// argc 2, argv {"x.json", "--json"}). They print to stdout/stderr and return the
// process exit status:
//   0  success (sim: every check held; replay: every output matched, and the end
//      line's count and digest)
//   1  a check failed (sim: an "expect", max_events, or an invariant, with the seed
//      and the command that replays it; --check-determinism: the runs differ, with
//      the first differing event), or replay diverged (naming the first divergent
//      event), or the trace has no end line (a recording cut short)
//   2  usage error or bad input (unknown flag, bad value, bad scenario or trace, a
//      file that cannot be read or written)
//
//   herd sim SCENARIO.json [--seed N] [--json] [--record TRACE] [--check-determinism]
//            [--output FILE] [--progress | --quiet] [--sync MODE] [--max-memory-mb N]
//   herd replay TRACE [--record OUT]
// Errors never reprint the usage: "herd: --seed: expected a value".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/result.h"
#include "node/sync.h"

namespace herd {

struct SimFlags {
  enum class Progress { kAuto, kOn, kOff };  // kAuto: when stderr is a terminal.
  std::string scenario_path;
  std::optional<uint64_t> seed;
  bool json = false;
  std::string record;
  std::string html;         // --html FILE: the HTML report (sim/html_report.h).
  std::string output;       // Empty: stdout.
  std::string secret_file;  // --secret-file: the simulated herd's peers authenticate.
  bool check_determinism = false;
  Progress progress = Progress::kAuto;
  std::optional<SyncMode> sync;  // --sync: wins over the scenario's.
  std::optional<uint64_t> max_memory_mb;  // --max-memory-mb: wins over the scenario's.
  bool help = false;
};

struct ReplayFlags {
  std::string trace;
  std::string record;
  std::string secret_file;
  bool help = false;
};

// Errors are the message after "herd: ", e.g. "--seed: expected a value",
// "sim: expected a SCENARIO file (see herd sim --help)".
Result<SimFlags> parse_sim_flags(const std::vector<std::string>& args);
Result<ReplayFlags> parse_replay_flags(const std::vector<std::string>& args);

int sim_command(int argc, char** argv);
int replay_command(int argc, char** argv);

}  // namespace herd
