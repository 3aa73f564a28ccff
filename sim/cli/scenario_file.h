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

}  // namespace herd
