// Helpers shared by the scenario parser's files (sim/scenario*.cc); not an API.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "node/json_where.h"
#include "node/result.h"
#include "node/link_machine.h"
#include "node/sync.h"
#include "node/topology.h"
#include "sim/scenario.h"

namespace herd {

// The integer member `key` of object `f` in min..max; `fallback` when absent (an
// error "is required" when there is none).
Result<int64_t> int_member(const JsonField& f, std::string_view key, int64_t min, int64_t max,
                           std::optional<int64_t> fallback);
// A number (integer or fraction) member in [min, max], or `fallback` when absent.
Result<double> number_member(const JsonField& f, std::string_view key, double min, double max,
                             double fallback);

// Compact JSON text of a value.
std::string json_text_of(const rapidjson::Value& value);

// Re-anchors an error from a parser that saw only `base` as separate text (its
// source named `source`): finds the error's key path under `base` in `doc` and
// gives "file: line L: base.path: what".
Error relocate_error(const std::string& error, std::string_view source, const JsonDoc& doc,
                     const JsonField& base);

Result<Topology> parse_scenario_topology(const JsonDoc& doc, const JsonField& f, const std::string& base_dir,
                                         const TopologyLoader& load);

// The "sync" section: {"mode": "off"|"link-up"|"periodic", "interval_ms": N,
// "bytes_per_s": N}, each optional (node/sync.h's defaults).
std::optional<Error> parse_sync_section(const JsonField& f, SyncConfig* sync);

// The "link_timings" section: backoff_min_ms, backoff_max_ms, hello_timeout_ms,
// heartbeat_ms, suspect_ms, idle_timeout_ms, each optional (node/link_machine.h's
// defaults); the idle timeout and the suspicion must exceed the heartbeat.
std::optional<Error> parse_link_timings_section(const JsonField& f, LinkTimings* timings);

// The "swarm" section (sim/swarm.h), checked against the scenario parsed so far (its
// topology and duration).
std::optional<Error> parse_swarm_section(const JsonField& f, const Scenario& s, SwarmSpec* swarm);

}  // namespace herd
