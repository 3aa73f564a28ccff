// Swarm testing: a scenario's "swarm" section is a template from which each seed
// draws its own faults, nemesis schedule and workload rates, and the concrete
// scenario it runs is plain scenario text (no swarm section) that `herd sim` would
// run the same way. The draw is a function of (section, topology, seed) only:
// integer draws from node/rng.h's Rng, one stream per purpose (derive(seed,
// "swarm/links/drop"), ".../duplicate", ".../delay", ".../bandwidth",
// "swarm/workload", "swarm/nemesis"), so changing one key leaves the others' draws.
//
// The section (every key optional):
//   "swarm": {
//     "events": [0, 3],          nemesis events per seed, uniform (0..1000)
//     "window_ms": [0, D],       each starts uniformly in here (default the workload's
//                                [0, duration_ms]); within [0, duration_ms]
//     "fault_ms": [500, 3000],   how long a partition, cut, blackhole, crash or pause
//                                lasts before its heal, restart or resume (1..10^9;
//                                a heal past the run's end comes at the end)
//     "kinds": {"partition": 1, "cut": 1, "blackhole": 1, "reset": 1, "crash": 1,
//               "pause": 1},     relative weights 0..1000 of each event's kind; given,
//                                a kind it leaves out has weight 0
//     "drop":      {"p": 0.5, "min": 0, "max": 0.1},  with probability p, every link
//                                drops with a probability uniform in [min, max]
//     "duplicate": {"p": 0.2, "min": 0, "max": 0.05}, the same for duplicates
//     "delay_ms":  {"p": 0.5, "min": 0, "max": 50},   with probability p, links delay
//                                uniformly in [a, b], a <= b drawn in [min, max] (ms)
//     "bandwidth_kbps": {"p": 0.1, "min": 64, "max": 1000},  with probability p, every
//                                link is limited to a rate uniform in [min, max]
//     "clients": [10, 100],      the workload's clients, uniform
//     "iamat_per_s": [5, 50], "whatsat_per_s": [0, 5]   its rates, uniform (0.001 steps)
//   }
// Link-level faults (partition, cut, blackhole) never overlap one another: one drawn
// while another lasts starts when it heals (and is skipped past the window), so a
// partition heals with heal_all. Crashes and pauses take a server that is neither
// crashed nor paused then (skipped when there is none). Resets come at any time.
// Values the swarm does not draw keep the scenario's own (links, workload, timeline:
// drawn events join the scenario's own).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "node/result.h"
#include "node/topology.h"
#include "sim/scenario.h"

namespace herd {

constexpr const char* kSwarmKinds[6] = {"partition", "cut", "blackhole", "reset", "crash", "pause"};

// What one seed drew: the draw as JSON ({"events": N, "skipped": N, "links": {...},
// "workload": {...}, "timeline": [...]}, one line) and the concrete scenario's text.
struct SwarmConcrete {
  std::string drawn_json;
  std::string text;
};

// `text` is the scenario's text and `parsed` its parse (with parsed.swarm set).
// Errors only when `text` is not the text `parsed` came from.
Result<SwarmConcrete> swarm_concrete(std::string_view text, const Scenario& parsed, uint64_t seed);

// A topology as scenario JSON ({"name", "nodes": [{"name", "port", "host",
// "peer_port"}], "links"}), one line.
std::string topology_json(const Topology& topology);

// The scenario text with its topology inline (a path becomes the object) and its
// top-level `seed` set, pretty-printed: a file that runs the same anywhere.
Result<std::string> standalone_scenario_text(std::string_view text, const Scenario& parsed, uint64_t seed,
                                             std::string_view description);

}  // namespace herd
