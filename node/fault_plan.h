// The faults file: JSON text -> FaultPlan, validated against the topology. Reading
// the file is the host's business. The format (every key optional; unknown keys are
// errors, so a typo never silently means "no fault"):
//
//   {"links": {"drop": 0.1, "delay_ms": DELAY, "duplicate": 0.0, "bandwidth_kbps": 0},
//    "link_overrides": [{"between": ["Riley", "Jaquez"], "drop": 1.0},
//                       {"link": "Riley>Jaquez", "delay_ms": 30}],
//    "timeline": [{"at_ms": 1000, "cut": ["Riley", "Jaquez"]},
//                 {"at_ms": 1500, "cut": "Riley>Jaquez"},
//                 {"at_ms": 5000, "heal": ["Riley", "Jaquez"]},
//                 {"at_ms": 6000, "partition": [["Riley", "Jaquez"], ["Juzang"]]},
//                 {"at_ms": 7000, "set": {"between": ["Riley", "Jaquez"], "drop": 0.5}},
//                 {"at_ms": 9000, "heal_all": true},
//                 {"at_ms": 10000, "crash": "Bernard"},
//                 {"at_ms": 12000, "restart": "Bernard"},
//                 {"at_ms": 13000, "reset": ["Riley", "Jaquez"]},
//                 {"at_ms": 14000, "blackhole": "Riley>Juzang"},
//                 {"at_ms": 15000, "pause": "Campbell"},
//                 {"at_ms": 16000, "resume": "Campbell"}]}
//
//   DELAY: {"dist": "constant", "value": 10} | {"dist": "uniform", "min": 5, "max": 50}
//        | {"dist": "exponential", "min": 5, "mean": 20} | a number (constant)
//   Milliseconds in [0, 3600000], fractions allowed (kept to the nanosecond);
//   probabilities in [0, 1]; at_ms an integer in [0, 10^9]. An override names a
//   link both ways ("between") or one way ("link": "FROM>TO") and changes only the
//   keys it gives. Timeline events are sorted by at_ms (ties keep file order); each
//   has exactly one action; partition follows the console's `partition` rules.
//
// Errors name the source, the line and the key path (node/json_where.h):
//   "faults.json: line 1: links.delay_ms.dist: must be \"constant\", \"uniform\" or ..."
//   "faults.json: line 7: timeline[4].crash: unknown server 'Bob'"
//   "faults.json: line 3, column 3: JSON syntax error: Missing a comma or '}' after ..."
#pragma once
#include <string_view>

#include "node/fault_action.h"
#include "node/result.h"

namespace herd {

constexpr int64_t kMaxAtMs = 1'000'000'000;

Result<FaultPlan> parse_fault_plan(std::string_view json_text, std::string_view source_name,
                                   const FaultTopology& topology);

}  // namespace herd
