// `herd explore`: every order in which a small herd's server-to-server messages can
// be delivered, checked exhaustively (a stateful model check over the real core).
//
// The model. The scenario's servers (at most kExploreServersMax) are real Node
// objects behind NodeDrivers, with their own link machines, flooding and sync. The
// explorer is their host:
//   - Setup (not explored): every server starts; dials, hellos and their answers are
//     delivered in one fixed order until every link is up and nothing is in flight.
//   - Then the state is the servers plus one FIFO channel per direction of each
//     connection (TCP's order: a connection never reorders; different connections
//     interleave freely), the updates not yet sent and the faults left. A choice is
//     one of: a client sends its next update (an IAMAT to its server; a client's
//     updates go in order, each newer than the one before); the head message of a
//     channel is delivered; the head protocol message (a flood or a sync message) of
//     a channel is dropped, while `drops` allows; a live server crashes for good
//     (its connections close, its neighbours hear the close), while `crashes` allows.
//     Dropping a head covers every set of drops: a message dropped later in a
//     channel is the same as one dropped when it reaches the head.
//   - Time stands still after setup: every input of the exploration carries the same
//     instant, and no timer fires (heartbeats, suspicion, redials, backoff, periodic
//     sync and sync deadlines are not modelled). Sync still answers what arrives, but
//     nothing starts a session after setup: explore checks the flood.
//   - A state is hashed over every server's record table (client order), its links'
//     up/down, whether it runs, every channel's messages in order, the updates not
//     yet sent and the faults left; a state seen before is not expanded again. With
//     time standing still, these determine what every later choice does.
//   - An end state has nothing left to do: every update sent, every channel empty.
//     Liveness there: every live server holds every client's newest stored record.
//     Safety after every step: no server stores a record of a client older than one
//     it stored before (since its crash).
// The first violation stops the search; its order of choices is run once more with
// a TraceWriter on every node, so `herd replay` replays it input by input.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "node/result.h"
#include "sim/scenario.h"

namespace herd {

constexpr size_t kExploreServersMax = 4;
constexpr size_t kExploreUpdatesMax = 8;
constexpr int kExploreDropsMax = 4;
constexpr uint64_t kExploreStatesDefault = 1'000'000;
constexpr uint64_t kExploreStatesMax = 5'000'000;  // About 40 bytes a state seen: 200 MB.

struct ExploreUpdate {
  std::string client;
  int server = 0;  // Topology index.
};

// The scenario's "explore" section:
//   "explore": {"updates": [{"client": "c0", "server": "n0"}, ...],  (1..8; default one
//               update of c0 at the first server)
//               "drops": 0..4 (0), "crashes": 0..servers-1 (0)}
struct ExploreSpec {
  std::vector<ExploreUpdate> updates;
  int drops = 0;
  int crashes = 0;
};

// Errors name the file, the line and the key: "x.json: line 3: explore.drops: ...".
Result<ExploreSpec> parse_explore_spec(const std::string& text, const std::string& source, const Scenario& scenario);

struct ExploreChoice {
  enum Kind : uint8_t { kSend, kDeliver, kDrop, kCrash };
  Kind kind = kSend;
  uint32_t arg = 0;  // kSend: the update; kDeliver, kDrop: the channel; kCrash: the server.
};

struct ExploreResult {
  uint64_t states = 0;       // Distinct states reached (the setup's end counts as one).
  uint64_t end_states = 0;   // Of them, end states (each checked).
  uint64_t transitions = 0;  // Choices taken (to new states or seen ones).
  uint64_t revisits = 0;     // Choices that led to a state seen before.
  size_t max_depth = 0;      // The longest order of choices.
  bool complete = false;     // Every state was explored (not cut at max_states).
  bool violated = false;
  std::string violation;     // What failed, for a person.
  std::vector<std::string> order;  // The violating order, one choice a line.
  std::string trace_error;   // Writing the trace failed: why.
};

// Explores; stops at the first violation or after `max_states` states. When a
// violation is found and `trace_path` is not empty, writes its trace there.
Result<ExploreResult> explore(const Scenario& scenario, const ExploreSpec& spec, uint64_t max_states,
                              const std::string& trace_path);

}  // namespace herd
