// `herd sweep`: one scenario over a range of seeds, in worker processes, with a
// deterministic spot check; and `herd shrink`: a failing seed reduced to a small
// standalone scenario that fails the same check (sim/cli/shrink_cli.cc).
//
//   herd sweep SCENARIO --seeds A-B [--jobs N] [--shard I/N] [--spot-check K]
//              [--sync MODE] [--json] [--output FILE]
//   herd shrink SCENARIO --seed N [--check NAME] [--max-steps N] [--sync MODE]
//              [--output FILE]
//
//   herd sweep --merge FILE... [--json] [--output FILE]
//
// Sweep output: see sim/cli/sweep_lines.h. --merge reads the --json outputs of the
// shards of one sweep (sim/cli/sweep_merge.cc) and prints what the unsharded sweep
// prints, but for the wall-time fields.
// Exit status: 0 every seed passed, 1 one failed, 2 bad usage, scenario or input.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/result.h"
#include "node/sync.h"

namespace herd {

constexpr uint64_t kSweepSeedsMax = 1'000'000;  // Seeds in one range.
constexpr int kSweepJobsMax = 256;
constexpr size_t kSweepMergeFilesMax = 1000;  // Files in one --merge (each is held open).
constexpr size_t kSweepLineMax = 1u << 20;   // A sweep's line, as --merge reads it.

struct SweepFlags {
  std::string scenario_path;
  uint64_t seed_lo = 0, seed_hi = 0;
  bool have_seeds = false;
  int jobs = 0;  // 0: the machine's cores.
  uint64_t shard_index = 0, shard_count = 1;
  uint64_t spot_every = 8;  // Seeds with mix64(seed) % K == 0 run twice; 0: none.
  std::optional<SyncMode> sync;
  bool json = false;
  std::string output;
  bool help = false;
  // --merge FILE...: the files; run_option: the first option given that only a run takes.
  bool merge = false;
  std::vector<std::string> merge_files;
  std::string run_option;
};

// Errors are the message after "herd: ": "--seeds: expected A-B ...".
Result<SweepFlags> parse_sweep_flags(const std::vector<std::string>& args);

// The seeds of [lo, hi] in shard index/count (seed % count == index), in order.
std::vector<uint64_t> shard_seeds(uint64_t lo, uint64_t hi, uint64_t index, uint64_t count);

int sweep_command(int argc, char** argv);
// `herd sweep --merge` (sim/cli/sweep_merge.cc).
int sweep_merge(const SweepFlags& flags);
// `herd explore` (sim/cli/explore_cli.cc, sim/explore.h).
int explore_command(int argc, char** argv);
int shrink_command(int argc, char** argv);

}  // namespace herd
