// Fault actions: what a console command or a faults-file timeline event asks for
// (cut, heal, partition, set, crash, restart, status), the parsed faults file
// (FaultPlan), and the console command parser. Data and parsing only; FaultState
// (node/fault_state.h) applies actions.
//
// Console commands (one per line, words separated by blanks):
//   cut A B          cut both directions      cut A>B    cut one direction
//   heal A B         heal both directions     heal A>B   heal one direction
//   heal             heal every cut (and partition); crashed servers stay down
//   partition A,B C,D,E   heal everything, then cut every link between groups;
//                    servers named in no group form one more group together
//   set A B drop=P delay=D dup=P bandwidth_kbps=N   (or set A>B ...) any non-empty
//                    subset of keys; D is MS (constant), MIN-MAX (uniform) or
//                    exp:MIN:MEAN; bandwidth_kbps=0 removes the limit
//   blackhole A B    blackhole A>B     the connection swallows every byte until healed
//   reset A B        tear the link's connection down now (both directions)
//   crash X          restart X          pause X          resume X          status
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/fault_model.h"
#include "node/result.h"
#include "node/topology.h"

namespace herd {

// The servers and the (undirected) links the fault layer knows about.
struct FaultTopology {
  std::vector<std::string> nodes;
  std::vector<std::pair<std::string, std::string>> links;  // Undirected, each once.

  bool has_node(std::string_view name) const;
  bool linked(std::string_view a, std::string_view b) const;
};

// Reads only Topology's data members, so it needs none of topology.cc.
inline FaultTopology fault_topology(const Topology& topology) {
  FaultTopology result;
  for (const TopologyNode& node : topology.nodes) result.nodes.push_back(node.name);
  result.links = topology.links;
  return result;
}

// "A B" (both directions) or "A>B" (from A to B only).
struct LinkRef {
  std::string from;
  std::string to;
  bool one_way = false;
  std::string text() const;  // "Riley>Jaquez" or "Riley Jaquez".
};

// A partial LinkFaults: only the fields present change.
struct LinkSettings {
  std::optional<Probability> drop;
  std::optional<DelayDist> delay;
  std::optional<Probability> duplicate;
  std::optional<uint64_t> bandwidth_kbps;

  bool empty() const { return !drop && !delay && !duplicate && !bandwidth_kbps; }
  LinkFaults applied_to(LinkFaults base) const;
};

enum class ActionKind : uint8_t {
  kCut, kHeal, kHealAll, kPartition, kSet, kCrash, kRestart, kStatus,
  kBlackhole, kReset, kPause, kResume,
};

struct FaultAction {
  ActionKind kind = ActionKind::kStatus;
  LinkRef link;                                  // kCut, kHeal, kSet, kBlackhole, kReset.
  std::vector<std::vector<std::string>> groups;  // kPartition, as given.
  std::string server;                            // kCrash, kRestart, kPause, kResume.
  LinkSettings settings;                         // kSet.
};

// Empty when the action fits the topology; else why not, for a person:
// "unknown server 'Foo' (servers: Riley, Jaquez, ...)" (names_text: at most 20),
// "Riley and Bernard are not linked".
std::string check_action(const FaultTopology& topology, const FaultAction& action);

// Syntax only; names are checked against a topology by check_action.
// Errors read "usage: cut A B | cut A>B", "set: bad drop 'x' (a probability in
// [0, 1])", "unknown command 'foo' (cut, heal, partition, set, crash, restart,
// status, help)"; `help` itself is the console's (net/live_faults.h). Numbers follow
// node/fault_text.h (JSON's grammar, as in a faults file).
Result<FaultAction> parse_command(std::string_view line);
// One "key=value" of `set` into settings: drop, delay, dup. Error text when bad.
std::string parse_setting(std::string_view word, LinkSettings& settings);

// The parsed faults file. Limits: at most kMaxPlanEntries overrides and timeline
// events each.
constexpr size_t kMaxPlanEntries = 100'000;

struct LinkOverride {
  LinkRef link;
  LinkSettings settings;
};

struct TimelineEvent {
  int64_t at_ms = 0;  // From the start of the run.
  FaultAction action;
};

struct FaultPlan {
  LinkFaults defaults;                  // "links": every directed link.
  std::vector<LinkOverride> overrides;  // "link_overrides", applied in file order.
  std::vector<TimelineEvent> timeline;  // Sorted by at_ms; ties keep file order.
};

}  // namespace herd
