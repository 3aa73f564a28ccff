// The herd-wide fault state: for every directed link of the topology its settings
// (the plan's defaults, then its overrides, then `set` commands), its LinkModel, its
// cut and blackhole flags, its bandwidth clock and its counters; which servers are
// crashed or paused. Console commands and timeline events change it through apply().
// Pure: no clock, no I/O, no randomness beyond the seeded per-link streams. Faults
// touch server-to-server traffic only.
//
// Two kinds of fault (node/fault_channel.h applies them to each message):
//   - a lossy message channel above TCP, for studying flooding itself: drop, delay
//     (and so reordering), duplicate, and cut/partition (nothing crosses, not even
//     the link's heartbeats, so the herd's liveness check sees it);
//   - what networks do to connections: `reset` (the connection is torn down now),
//     `blackhole` (the connection stays open and swallows every byte), a bandwidth
//     limit (bytes leave at bandwidth_kbps), and `pause`/`resume` of a server (it
//     stops processing, as if SIGSTOPped, and keeps its state). The host carries out
//     reset and pause (HostRequest); the channel applies blackhole and bandwidth.
//
// Links are numbered 0..link_count()-1 in (from, to) name order, which is also the
// order of status lines. Servers are listed by name.
//
// Counters per directed link, protocol messages only (floods and sync; the link's
// own hello and heartbeats are not counted): every message handed to the channel is
// `sent`; it is `dropped` (drop probability), `cut` (cut, partition or crashed end,
// at sending or when a delayed copy comes due), `blackholed`, `overflow` (too many
// copies held), `delivered` (written to its connection by the host) or `lost` (its
// connection was gone, or closed with it unwritten); a duplicated message counts once
// in `duplicated` and its two copies are each counted once in the rest.
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
  uint64_t blackholed = 0;
  uint64_t overflow = 0;
  uint64_t lost = 0;
  uint64_t resets = 0;  // Times its connection was reset.
};

// What the host must do after a command, since the host owns servers and connections.
enum class HostRequest : uint8_t {
  kNone,
  kCrash,    // Stop `server` (close its listener and connections, lose its memory).
  kRestart,  // Start `server` again.
  kStatus,   // Print status_lines() with the servers' figures.
  kReset,    // Tear down the connection between `server` and `peer` now.
  kPause,    // `server` stops processing, keeping its state.
  kResume,   // `server` goes on.
};

struct CommandOutcome {
  bool ok = false;
  std::string answer;  // One line, no '\n': "ok: cut Riley>Jaquez" or "error: ...".
  HostRequest request = HostRequest::kNone;
  std::string server;  // kCrash, kRestart, kReset, kPause, kResume.
  std::string peer;    // kReset.
};

// What the host knows of one directed link, for its status line.
struct LinkHostView {
  bool conn_up = false;     // The link has an open connection, up at the sender.
  uint64_t sent = 0;        // Protocol messages the sending node handed to the link.
  uint64_t lost_at_node = 0;  // Of those, lost at the node (link down, queue full).
  uint64_t queued = 0;      // Copies held by the channel or waiting in the host's buffers.
};

// What the host knows of one server, for its status line.
struct ServerHostView {
  uint64_t records = 0;
  std::string extra;  // More fields, e.g. "sync_sessions=3 sync_records=10".
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
  const std::string& from(int link) const { return nodes_[links_.at(link).from]; }
  const std::string& to(int link) const { return nodes_[links_.at(link).to]; }
  const LinkCounters& counters(int link) const;
  const LinkFaults& faults(int link) const;
  bool is_cut(int link) const;
  bool blackholed(int link) const { return links_.at(link).blackhole; }
  bool crashed(std::string_view server) const;
  bool paused(std::string_view server) const;
  // Whether any link has any fault set (the hosts then skip the channel's work).
  bool any_faults() const;

  // Cut, partitioned, or either end crashed: a message now would be lost.
  bool blocked(int link) const;
  // The fate of the next protocol message handed to `link`; counts sent, dropped,
  // duplicated, cut and blackholed. REQUIRES: now_ns never decreases.
  Decision decide(int link, int64_t now_ns);
  // When a message of `bytes` bytes handed to `link` at now_ns has left under the
  // link's bandwidth (now_ns when unlimited): messages leave one after another.
  int64_t transmit(int link, uint64_t bytes, int64_t now_ns);
  // The link's connection closed at now_ns: what it had not sent died with it, so
  // the next connection's messages do not wait behind them.
  void reset_pacing(int link, int64_t now_ns);
  void count_delivered(int link, uint64_t n = 1);
  void count_cut(int link);         // A held copy found the link blocked when due.
  void count_blackholed(int link);  // ... or blackholed.
  void count_overflow(int link);    // A copy lost because too many were held.
  void count_lost(int link, uint64_t n = 1);  // Copies whose connection was gone.
  void count_reset(int link);

  // Parses, checks and applies one console command.
  CommandOutcome execute(std::string_view line);
  // Checks and applies an action (a command or a timeline event).
  CommandOutcome apply(const FaultAction& action);

  // "link FROM>TO conn=up|down sent=N dropped=N duplicated=N delivered=N cut=N
  //  blackholed=N overflow=N lost=N queued=N resets=N state=up|cut|blackhole|crashed
  //  drop=P delay=D dup=P [bandwidth_kbps=N]", one per directed link, with
  //  sent + duplicated = dropped + delivered + cut + blackholed + overflow + lost +
  //  queued; then "server NAME records=N state=up|crashed|paused [extra]", one per
  //  server. `links` is indexed by link id; a server missing from `servers` shows
  //  records=0.
  std::vector<std::string> status_lines(const std::vector<LinkHostView>& links,
                                        const std::map<std::string, ServerHostView, std::less<>>& servers) const;

 private:
  struct DirectedLink {
    std::string label;
    int from = 0;  // Index into nodes_.
    int to = 0;
    LinkModel model;
    bool cut = false;
    bool blackhole = false;
    int64_t free_at_ns = INT64_MIN;  // When the link's last message has left.
    LinkCounters counters;
  };

  int node_index(std::string_view name) const;
  // The directed links a LinkRef names: one, or two when both ways.
  std::vector<int> links_of(const LinkRef& ref) const;
  CommandOutcome set_flag(const LinkRef& ref, bool DirectedLink::*flag, bool value, const char* verb);
  CommandOutcome heal(const LinkRef& ref);
  CommandOutcome heal_all();
  CommandOutcome partition(const std::vector<std::vector<std::string>>& groups);
  CommandOutcome set(const LinkRef& ref, const LinkSettings& settings);
  CommandOutcome crash(const std::string& server, bool crash);
  CommandOutcome pause(const std::string& server, bool pause);
  CommandOutcome reset(const LinkRef& ref);
  std::string link_line(const DirectedLink& link, const LinkHostView& view) const;

  FaultTopology topology_;
  std::vector<std::string> nodes_;  // Sorted by name.
  std::vector<bool> crashed_;       // By index into nodes_.
  std::vector<bool> paused_;
  std::vector<DirectedLink> links_;  // Sorted by (from, to) name.
};

}  // namespace herd
