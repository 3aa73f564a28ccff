// The lines `herd sweep` prints, rendered in one place for a sweep and for
// `herd sweep --merge` (sim/cli/sweep_merge.cc), so that a merge of shards prints
// what the unsharded sweep prints.
//
// With --json, one line per seed, in seed order, then a summary line:
//   {"seed":N,"pass":true|false,"checks":[{"name","figure","bound","pass"}],"digest":"hex",
//    "wall_ms":X,"rerun":"herd sim SCENARIO --seed N","failed":[names]
//    (,"swarm":{the draw})(,"error":"why")}
//   {"summary":{"scenario":PATH,"name":NAME,"scenario_hash":"hex","sync":MODE|null,
//    "spot_check":K,"swarm":true|false,"range":[A,B],"shard":[I,N],"seeds":N,"failed":N,
//    "wall_ms":X,"seeds_per_s":X,"failing":[{"seed","rerun"}]}}
// Every field but the two "wall_ms" and "seeds_per_s" is a function of the scenario
// file, the flags and the seeds. The summary's first fields identify the sweep, so
// that a merge can tell that its shards belong together.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/report.h"

namespace herd {

// One seed's line.
struct SweepSeedLine {
  uint64_t seed = 0;
  bool pass = false;
  bool spot = false;      // It ran twice (the spot check).
  std::string digest;     // "" when the worker died.
  std::string wall_ms;    // As printed ("" when the worker died).
  std::vector<Check> checks;
  std::vector<std::string> failed;
  std::string rerun, swarm, error;  // swarm: the draw's JSON, or "".
};

std::string sweep_seed_json(const SweepSeedLine& line);  // With its '\n'.
std::string sweep_seed_text(const SweepSeedLine& line);  // With its '\n'.

// What a sweep is: shards of one sweep agree on all of it but shard_index.
struct SweepIdentity {
  std::string path;           // The scenario as given on the command line.
  std::string name;           // The scenario's name.
  std::string scenario_hash;  // hex16 of a Hasher over the file's bytes.
  std::string sync;           // --sync's mode, or "" when not given.
  uint64_t spot_every = 0;    // --spot-check.
  bool swarm = false;
  uint64_t seed_lo = 0, seed_hi = 0;
  uint64_t shard_index = 0, shard_count = 1;
};

// The hash of a scenario file's text, as scenario_hash holds it.
std::string scenario_text_hash(const std::string& text);

// What the seeds came to.
struct SweepTotals {
  uint64_t seeds = 0;
  std::vector<std::pair<uint64_t, std::string>> failing;  // seed, rerun command.
  uint64_t spot_checked = 0, spot_disagreed = 0;
  int64_t wall_ns = 0;
};

std::string sweep_summary_json(const SweepIdentity& id, const SweepTotals& totals);
// The text mode's first line: "herd sweep: NAME (PATH), seeds A-B[, shard I/N]: N seeds, HOW[, swarm]".
std::string sweep_header_text(const SweepIdentity& id, uint64_t seeds, const std::string& how);
// The text mode's summary: "herd sweep: N seeds, F failed, X seeds/s (HOW, T ms); spot check: ..."
// and one "  failed: RERUN" line per failing seed.
std::string sweep_summary_text(const SweepTotals& totals, const std::string& how);

}  // namespace herd
