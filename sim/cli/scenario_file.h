// Reading a scenario file from disk (the command line's: the simulator reads no
// file), with its topology path resolved against the scenario's directory.
#pragma once
#include <string>

#include "node/result.h"
#include "sim/scenario.h"

namespace herd {

// Errors: "x.json: cannot read: ...", and parse_scenario's.
Result<Scenario> load_scenario(const std::string& path);

}  // namespace herd
