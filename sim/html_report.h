// The HTML report of a run (`herd report INPUT --html OUT`, `herd sim --html`,
// `herd run --scenario --html`): one self-contained file, inline SVG and a small
// script of the project's own, no network. It shows
//   1. a space-time diagram of one update at a time (a lane per server, an arrow per
//      message that carried it, lost messages marked, fault periods shaded, a dot
//      where each server stored it), a selector for the update, hover details;
//   2. convergence latency per server (a CDF) and residue over time with the fault
//      timeline under it;
//   3. per-link message and fault counts as a matrix;
//   4. the summary figures and every check with its bound.
// A sweep's JSON lines get their own page: a grid of seeds by pass/fail, each with
// its rerun command.
//
// The run is described by an HtmlRun, fed by whoever saw it: HtmlCollector (an
// InputObserver on every node's driver, in the simulator, the live herd or a trace's
// replay) or a reader of live logs. Both call the same methods, so every source draws
// the same picture.
//
// Limits: kHtmlUpdatesMax updates are drawn (spread evenly over the run: when more
// come, every other one is dropped and the spacing doubles; on a topology of more than
// 470 links fewer, down to 4, so that about 60000 messages are drawn), each with at most
// kHtmlMessagesPerUpdateMax messages; the counts left out are shown. Latency keeps
// at most kHtmlLatencyMax samples per server (evenly thinned the same way); updates
// are tracked for latency up to kHtmlTrackedMax; link counts are kept per directed
// pair that exchanged messages (never servers squared).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "node/fault_action.h"
#include "node/input_observer.h"
#include "sim/report.h"

namespace herd {

constexpr size_t kHtmlUpdatesMax = 64;
constexpr size_t kHtmlMessagesPerUpdateMax = 4096;
constexpr size_t kHtmlLatencyMax = 4096;
constexpr size_t kHtmlTrackedMax = 1'000'000;
constexpr size_t kHtmlFaultsMax = 10'000;

struct HtmlMessage {
  int from = 0, to = 0;
  int64_t sent_ns = 0;
  int64_t recv_ns = -1;  // -1: never received (dropped, cut, or its connection closed).
  int hops = 0;          // FLOOD's hop count; 0 for SYNC REC.
  char kind = 'f';       // 'f' FLOOD, 's' SYNC REC.
};

struct HtmlStore {
  int server = 0;
  int64_t t_ns = 0;
  char via = 'c';  // 'c' from its client, 'f' a flood, 's' a sync.
  int hops = 0;
};

struct HtmlUpdate {
  uint64_t index = 0;  // Among all the run's updates, from 0.
  int origin = 0;
  int64_t t_ns = 0;
  std::string at_line;
  std::vector<HtmlMessage> messages;
  std::vector<HtmlStore> stores;
  uint64_t messages_left_out = 0;
};

// A fault of the timeline: [from, to) shaded, to = -1 while open (the run's end).
struct HtmlFault {
  int64_t from_ns = 0, to_ns = -1;
  std::string label;
};

// A link's counts, one direction: messages sent and received, and how often it went
// down (seen by the sending side).
struct HtmlLinkCounts {
  uint64_t sent = 0, received = 0, downs = 0;
  uint64_t faulted = 0;  // Kept from the link by the fault layer without a send (logs only).
};

class HtmlRun {
 public:
  HtmlRun(std::vector<std::string> servers, std::vector<std::pair<int, int>> links);

  // A server stored a record from its client: a new update. Then store() it.
  void update(int origin, int64_t t_ns, std::string_view at_line);
  void store(int server, int64_t t_ns, std::string_view at_line, char via, int hops);
  // A peer message, as written (without a seal). FLOOD and SYNC REC carry a record.
  void send(int from, int to, int64_t t_ns, std::string_view message);
  void receive(int from, int to, int64_t t_ns, std::string_view message);
  void link_down(int from, int to, int64_t t_ns);
  void faulted(int from, int to) { ++counts(from, to).faulted; }
  // A fault of the timeline; `heals`: it ends the faults open before it.
  void fault(int64_t t_ns, std::string label, bool heals);
  void note(std::string text) { notes_.push_back(std::move(text)); }
  void seen(int64_t t_ns);  // Any event: the run's first and last moments.

  int server_index(std::string_view name) const;
  const std::vector<std::string>& servers() const { return servers_; }
  const std::vector<std::pair<int, int>>& links() const { return links_; }
  const std::vector<HtmlUpdate>& drawn() const { return drawn_; }
  uint64_t updates() const { return updates_; }
  const std::vector<HtmlFault>& faults() const { return faults_; }
  const HtmlLinkCounts& link(int from, int to) const;
  // The run's first and last moments (0 and 0 before any).
  int64_t first_ns() const { return first_ns_ == INT64_MAX ? 0 : first_ns_; }
  int64_t last_ns() const { return last_ns_ == INT64_MIN ? first_ns() : last_ns_; }
  const std::vector<std::vector<int64_t>>& latency_ns() const { return latency_; }
  const std::vector<std::string>& notes() const { return notes_; }
  uint64_t carried_messages() const { return carried_; }  // FLOOD and SYNC REC sent.

 private:
  static std::string_view carried_line(std::string_view message, char* kind, int* hops);
  void thin();

  std::vector<std::string> servers_;
  std::vector<std::pair<int, int>> links_;
  HtmlLinkCounts& counts(int from, int to) { return counts_[static_cast<uint64_t>(from) << 32 | static_cast<uint32_t>(to)]; }
  // Per directed pair that exchanged messages (at most the links): from << 32 | to.
  std::unordered_map<uint64_t, HtmlLinkCounts> counts_;
  std::vector<HtmlUpdate> drawn_;
  std::unordered_map<std::string, size_t> drawn_index_;  // AT line -> index in drawn_.
  size_t updates_max_ = kHtmlUpdatesMax;  // Fewer on big topologies: about 60000 messages drawn.
  uint64_t stride_ = 1;
  uint64_t updates_ = 0;
  uint64_t carried_ = 0;
  // Every update's time and the servers that stored it (for latency).
  struct Tracked {
    int64_t t_ns = 0;
    std::vector<bool> stored;
  };
  std::unordered_map<std::string, Tracked> tracked_;
  std::vector<std::vector<int64_t>> latency_;  // Per server.
  std::vector<uint64_t> latency_seen_, latency_stride_;
  std::vector<HtmlFault> faults_;
  std::vector<std::string> notes_;
  int64_t first_ns_ = INT64_MAX, last_ns_ = INT64_MIN;
};

// Feeds an HtmlRun from every node's inputs and effects: add it to every driver.
class HtmlCollector final : public InputObserver {
 public:
  explicit HtmlCollector(HtmlRun* run) : run_(run) {}
  void on_input(int node_index, const Input& input, std::span<const Effect> outputs, const Node& node) override;

 private:
  int neighbour(int server, const Node& node, int peer);
  HtmlRun* run_;
  std::vector<uint64_t> offers_;
  std::vector<std::vector<int>> neighbours_;  // Per server: its peers' indices.
};

// A timeline action as a person reads it: "partition n0_0 n0_1 ... | rest", "cut a b".
std::string action_label(const FaultAction& action);
bool action_heals(const FaultAction& action);
// The scenario's timeline into the run, times from `origin_ns`.
void add_timeline(HtmlRun* run, const FaultPlan& plan, int64_t origin_ns);

struct HtmlMeta {
  std::string title;     // "partition_heal (sim, seed 1)".
  std::string source;    // "herd sim sim/scenarios/partition_heal.json", "trace t.jsonl", ...
  std::string rerun;     // A command that makes the run again, when known.
};

// The whole page. `report`: the run's figures and checks, when known.
std::string render_run_html(const HtmlRun& run, const std::optional<Report>& report, const HtmlMeta& meta);

// A sweep: one entry per seed line, and its summary line.
struct SweepCheck {
  std::string name, figure, bound;
  bool pass = false;
};
struct SweepSeed {
  uint64_t seed = 0;
  bool pass = false;
  std::vector<SweepCheck> checks;
  std::string digest, rerun;
  double wall_ms = 0;
  std::vector<std::string> failed;
};
struct SweepSummary {
  bool present = false;
  uint64_t seeds = 0, failed = 0;
  double seeds_per_s = 0;
};
std::string render_sweep_html(const std::vector<SweepSeed>& seeds, const SweepSummary& summary, const HtmlMeta& meta);

}  // namespace herd
