// Reading a scenario file from disk (the command line's: the simulator reads no
// file), with its topology path resolved against the scenario's directory.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "node/result.h"
#include "sim/scenario.h"

namespace herd {

// Errors: "x.json: cannot read: ...", and parse_scenario's. `max_memory_mb` wins over
// the file's (herd sim --max-memory-mb).
Result<Scenario> load_scenario(const std::string& path, std::optional<uint64_t> max_memory_mb = std::nullopt);

// A scenario as one seed runs it: for a swarm scenario (sim/swarm.h), the concrete
// scenario that seed draws, with the draw; else the scenario itself.
struct SeededScenario {
  Scenario scenario;
  uint64_t seed = 1;
  std::string text;        // The text `scenario` was parsed from (concrete: no swarm).
  std::string swarm_json;  // The draw, or "" for a scenario without a swarm section.
};

// Parses `text` as the file `path` (its topology path resolved against its directory).
Result<Scenario> parse_scenario_file_text(const std::string& text, const std::string& path);
// The file's text, for seeded_scenario.
Result<std::string> read_scenario_text(const std::string& path);
// Parses `text` (the file `path`'s) and, for a swarm scenario, draws for the seed:
// `seed`, else the scenario's own, else 1.
Result<SeededScenario> seeded_scenario(const std::string& text, const std::string& path,
                                       std::optional<uint64_t> seed,
                                       std::optional<uint64_t> max_memory_mb = std::nullopt);
// The same for an already parsed template (sweep workers parse once).
Result<SeededScenario> seeded_scenario(const std::string& text, const std::string& path, const Scenario& parsed,
                                       uint64_t seed);

}  // namespace herd
