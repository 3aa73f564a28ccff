// The virtual host: every server of a scenario's topology as a Node behind a
// NodeDriver (node/driver.h), driven by one event queue in virtual time. It runs all
// of the herd but the syscalls: the nodes' own link machines dial, greet, back off,
// heartbeat and resynchronise over simulated TCP connections (per-connection FIFO,
// a receive buffer, a send queue whose limit raises backpressure, resets, closes);
// messages meet the fault layer through the same FaultChannel rules as the live
// host; Places is SimPlaces; clients are ClientWorkload. No wall clock, no sockets,
// no threads: a run is a function of (scenario, seed), and every input to every node
// can be observed (traces, determinism checks, metrics).
//
// Boot: every node gets kStart at time 0; the workload and the timeline start once
// every link is up ("ready", as in the live herd), which with the simulator's
// zero-latency connections is at time 0 too. The run ends at duration + drain, or
// earlier once the workload is over and the herd is quiet (no protocol message in
// flight, no Places request pending, no sync session under way, every link between
// running servers up), or at max_events.
//
// Sub-seeds are drawn from Rng(seed) in this fixed order: links, workload, places;
// each node's seed is the run's seed (the node derives its own stream by name).
//
// Ownership: the Simulator holds a reference to the scenario, which must outlive it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "node/driver.h"
#include "node/effects.h"
#include "node/fifo.h"
#include "node/fault_channel.h"
#include "node/fault_state.h"
#include "node/trace_format.h"
#include "sim/event_queue.h"
#include "sim/memory_budget.h"
#include "sim/metrics.h"
#include "sim/run_metrics.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/sim_places.h"
#include "sim/workload.h"

namespace herd {

class Simulator {
 public:
  Simulator(const Scenario& scenario, uint64_t seed);

  // Receives every input of every node (traces, determinism checks). Not owned.
  void add_observer(InputObserver* observer);

  // Called from run_events() after every `every_events` events with the virtual
  // time and the events so far, e.g. to show progress: the simulator reads no clock,
  // its caller may. REQUIRES: every_events > 0; the callback does not touch the run.
  using Progress = std::function<void(int64_t now_ns, uint64_t events)>;
  void set_progress(uint64_t every_events, Progress progress) {
    progress_every_ = every_events;
    progress_ = std::move(progress);
  }

  // Runs to the end. Call once.
  void run_events();
  // The figures of the run so far. Its wall_ns is 0: a caller that wants the rate
  // times run_events() (there is no clock in here).
  Report report() const;
  Report run() {
    run_events();
    return report();
  }

  // For traces: the header of this run, and the nodes in header order.
  TraceHeader trace_header() const;
  std::vector<const Node*> nodes() const;
  const UpdateTracker& updates() const { return metrics_.tracker(); }
  const RunMetrics& metrics() const { return metrics_; }
  const FaultState& faults() const { return faults_; }
  // Protocol messages on directed link `link` that were sent but are neither
  // delivered nor lost yet: held by the fault channel or queued at the sender (the
  // status line's `queued`).
  uint64_t queued(int link) const;
  int64_t ready_ns() const { return ready_ns_; }
  // What the run holds now, in bytes, by the memory budget's costs
  // (sim/memory_budget.h): deterministic, checked every kMemoryCheckEvents events
  // against the scenario's max_memory_mb; and the most it held at a check.
  uint64_t memory_bytes() const;
  uint64_t memory_peak_bytes() const { return memory_peak_; }

 private:
  // One message in a connection: its bytes in a pool slot.
  struct Msg {
    uint32_t slot = 0;
    uint32_t bytes = 0;
    bool protocol = false;
  };
  // One TCP connection; direction d carries node[d]'s writes to node[1 - d].
  struct Conn {
    int node[2] = {0, 0};
    ConnId id[2] = {0, 0};
    int link[2] = {-1, -1};  // FaultState's directed link of each direction.
    bool open = true;
    uint64_t lines_in[2] = {0, 0};  // Lines read by node[1 - d]'s side, per direction.
    struct Dir {
      Fifo<Msg> sendq;  // Written, not yet in the receiver's buffer.
      Fifo<Msg> inbox;  // In the receiver's buffer, not yet read.
      uint64_t sendq_bytes = 0, inbox_bytes = 0;
      bool full = false;      // Backpressure raised at the sender.
    } dir[2];
  };
  // A copy the fault channel holds for a delay.
  struct Held {
    uint32_t conn = UINT32_MAX;  // UINT32_MAX: a free entry.
    int dir = 0;
    Msg msg;
  };

  Now now_at(int node) const;
  void add_nonce(Input* in);
  void schedule(SimEventKind kind, int64_t time_ns, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0,
                uint64_t request = 0);
  // A pool slot holding `bytes`, counted in pool_heap_ until released.
  uint32_t slot_acquire(std::string bytes);
  void slot_release(uint32_t slot);
  // Feeds `node` one input and applies its effects; defers it while the node is paused.
  void feed(int node, const Input& in);
  bool defer_if_paused(int node, const SimEvent& e);
  void apply(int node, Effects& effects);
  void on_reply(const Effect& e);

  // Connections (simulator_net.cc).
  void dial(int node, const Effect& e);
  void send(int node, Effect& e);
  void write(uint32_t conn, int dir, Msg msg);
  void refill(uint32_t conn, int dir);
  void backpressure(uint32_t conn, int dir);
  void deliver(const SimEvent& e);
  void due(const SimEvent& e);
  // Closes a connection; each end in `tell` hears kClosed with `why`.
  void close_conn(uint32_t conn, bool tell0, bool tell1, const char* why);
  void close_by(int node, ConnId id, const char* why);
  void close_all(int node);
  void reset_link(const std::string& a, const std::string& b);
  uint32_t conn_of(int node, ConnId id) const;  // UINT32_MAX when none.
  bool links_up() const;
  bool quiet() const;
  template <typename Ok>
  bool every_end(size_t* cursor, Ok ok) const;

  void places_answer(const SimEvent& e);
  void client_command(int server, uint32_t client, std::string line, bool iamat);
  void iamat_tick();
  void whatsat_tick();
  void timeline(size_t index);
  void host_request(const CommandOutcome& outcome);
  void resume(int node);
  void start_workload();
  void check_liveness();
  void add_checks(Report* r) const;

  const Scenario& scenario_;
  uint64_t seed_;
  int n_;
  TopologyIndex index_;
  std::vector<NodeConfig> configs_;
  std::vector<std::unique_ptr<NodeDriver>> drivers_;
  std::vector<char> crashed_, paused_;
  std::vector<uint32_t> epoch_;     // Bumped at each crash: late Places answers are dropped.
  std::vector<int64_t> skew_ns_;    // Each server's wall-clock offset.
  std::vector<std::vector<uint32_t>> timer_gen_;  // Per node, per timer.
  std::vector<ConnId> next_conn_;   // Per node.
  std::vector<std::vector<SimEvent>> deferred_;   // Per node, while paused.
  FaultState faults_;
  FaultChannel channel_;
  // Every link end (node, its peer index), flat, for the checks made after every
  // event; each check resumes where its last one failed (every_end).
  std::vector<int> end_node_, end_peer_;
  mutable size_t up_cursor_ = 0, quiet_cursor_ = 0;
  uint64_t paused_count_ = 0;
  ClientWorkload workload_;
  SimPlaces places_;
  EventQueue queue_;
  std::vector<std::string> pool_;   // Message, line and Places bodies in flight, by slot.
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> pool_heap_of_;  // Per slot: its bytes' heap block, as counted.
  uint64_t pool_heap_ = 0;              // Their sum over slots in use.
  uint64_t deferred_count_ = 0;         // Events in deferred_.
  uint64_t fixed_bytes_ = 0;            // The process, servers, links, clients.
  uint64_t memory_peak_ = 0;
  std::vector<InputObserver*> observers_;  // Added ones, for their memory_bytes().
  std::vector<Conn> conns_;
  std::unordered_map<uint64_t, uint32_t> conn_index_;  // (node << 40 | id) -> conns_ index.
  std::vector<Held> held_;
  std::vector<uint32_t> free_held_;
  std::unordered_map<std::string, uint32_t> client_index_;
  RunMetrics metrics_;
  Progress progress_;
  uint64_t progress_every_ = 0;

  int64_t now_ns_ = 0;
  int64_t ready_ns_ = -1;
  int64_t liveness_at_ns_ = INT64_MAX;  // When expect.converge_after_faults_ms looks.
  int64_t sample_every_ns_ = 0, next_sample_ns_ = 0;  // The residue series.
  uint64_t heals_ = 0;
  bool liveness_done_ = false;
  uint64_t liveness_stale_ = 0;
  std::string liveness_behind_;
  uint64_t inflight_ = 0;        // Protocol messages held, queued or unread.
  uint64_t pending_work_ = 0;    // Places answers, workload ticks and timeline events queued.
  uint64_t events_ = 0, deliveries_ = 0, replies_ = 0, invalid_ = 0;
  uint64_t iamats_ = 0, whatsats_ = 0, refused_ = 0, lost_ = 0;
  mutable std::string notes_consistency_;  // Set by report() when the metrics disagree.
  uint64_t queue_limit_bytes_;
  Rng nonces_;  // Handshake nonces, when the herd authenticates.
  std::vector<std::string> notes_;
  bool ran_ = false;
  bool hit_event_limit_ = false;
  bool hit_memory_limit_ = false;
};

}  // namespace herd
