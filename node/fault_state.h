// The herd-wide fault state: for every directed link of the topology its settings
// (the plan's defaults, then its overrides, then `set` commands), its LinkModel, its
// cut flag and its counters; which servers are crashed. Console commands and
// timeline events change it through apply(). Pure: no clock, no I/O, no randomness
// beyond the seeded per-link streams. Faults touch server-to-server traffic only.
//
// Links are numbered 0..link_count()-1 in (from, to) name order, which is also the
// order of status lines. Servers are listed by name.
//
// Counters per directed link: every message handed to the link is `sent`; then it
// is `dropped` (drop probability), `cut` (cut, partition or crashed end, at sending
// or when a delayed copy comes due), `overflow` (too many copies held), or delivered
// by the host, which calls count_delivered. A duplicated message counts once in
// `duplicated` and its two copies are each delivered or lost.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "node/fault_action.h"
#include "node/fault_model.h"

namespace herd {

struct LinkCounters {
  uint64_t sent = 0;
  uint64_t dropped = 0;
  uint64_t duplicated = 0;
  uint64_t delivered = 0;
  uint64_t cut = 0;
  uint64_t overflow = 0;
};

// What the host must do after a command, since the host owns the servers.
enum class HostRequest : uint8_t {
  kNone,
  kCrash,    // Stop `server` (close its listener and connections, lose its memory).
  kRestart,  // Start `server` again.
  kStatus,   // Print status_lines() with the servers' record counts.
};

struct CommandOutcome {
  bool ok = false;
  std::string answer;  // One line, no '\n': "ok: cut Riley>Jaquez" or "error: ...".
  HostRequest request = HostRequest::kNone;
  std::string server;  // kCrash, kRestart.
};

class FaultState {
 public:
  // REQUIRES: topology names are unique and its links name its nodes; the plan was
  // parsed against the same topology (parse_fault_plan). Its timeline is not applied:
  // the host schedules each event and calls apply() when it comes due.
  FaultState(FaultTopology topology, uint64_t seed, const FaultPlan& plan = {});

  int link_count() const { return static_cast<int>(links_.size()); }
  // The directed link from -> to, or -1 when the topology has no such link.
  int link_id(std::string_view from, std::string_view to) const;
  const std::string& label(int link) const;  // "FROM>TO".
  const LinkCounters& counters(int link) const;
  const LinkFaults& faults(int link) const;
  bool is_cut(int link) const;
  bool crashed(std::string_view server) const;

  // Cut, partitioned, or either end crashed: a message now would be lost.
  bool blocked(int link) const;
  // The fate of the next message handed to `link`; counts sent, dropped, duplicated
  // and cut. REQUIRES: now_ns never decreases.
  Decision decide(int link, int64_t now_ns);
  void count_delivered(int link);
  void count_cut(int link);       // A held copy found the link blocked when due.
  void count_overflow(int link);  // A copy lost because too many were held.

  // Parses, checks and applies one console command.
  CommandOutcome execute(std::string_view line);
  // Checks and applies an action (a command or a timeline event).
  CommandOutcome apply(const FaultAction& action);

  // "link FROM>TO sent=N dropped=N duplicated=N delivered=N cut=N overflow=N
  //  state=up|cut|crashed drop=P delay=D dup=P", one per directed link, then
  // "server NAME records=N state=up|crashed", one per server; a server missing from
  // `records` shows records=0.
  std::vector<std::string> status_lines(
      const std::map<std::string, uint64_t, std::less<>>& records) const;

 private:
  struct DirectedLink {
    std::string label;
    int from = 0;  // Index into nodes_.
    int to = 0;
    LinkModel model;
    bool cut = false;
    LinkCounters counters;
  };

  int node_index(std::string_view name) const;
  // The directed links a LinkRef names: one, or two when both ways.
  std::vector<int> links_of(const LinkRef& ref) const;
  CommandOutcome set_cut(const LinkRef& ref, bool cut);
  CommandOutcome heal_all();
  CommandOutcome partition(const std::vector<std::vector<std::string>>& groups);
  CommandOutcome set(const LinkRef& ref, const LinkSettings& settings);
  CommandOutcome crash(const std::string& server, bool crash);
  std::string link_line(const DirectedLink& link) const;

  FaultTopology topology_;
  std::vector<std::string> nodes_;  // Sorted by name.
  std::vector<bool> crashed_;       // By index into nodes_.
  std::vector<DirectedLink> links_;  // Sorted by (from, to) name.
};

}  // namespace herd
