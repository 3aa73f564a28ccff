// The virtual host (DESIGN.md): every server of a scenario's topology as a Node,
// driven by one event queue in virtual time. Links are the link layer's fault
// models (node/fault_state.h: one FaultState decides each message's fate exactly as
// a FaultyLink would, and its timeline and commands apply unchanged); Places is
// SimPlaces; clients are ClientWorkload. No wall clock, no sockets, no threads: a run
// is a function of (scenario, seed), and every input to every node can be observed
// (sim/trace.h) for recording, replay and determinism checks.
//
// Sub-seeds are drawn from Rng(seed) in this fixed order: links, workload, places.
//
// Why not FaultyLink objects: they hold each delayed copy in a std::function and
// a shared_ptr, which costs an allocation per message; the simulator keeps held
// copies as tagged events in its own queue and follows FaultyLink's rules (decide at
// send; a copy due on a link that is blocked by then is lost as cut; at most
// kMaxHeldPerLink copies held per link, then overflow).
//
// Ownership: the Simulator holds a reference to the scenario, which must outlive it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "node/effects.h"
#include "node/fault_state.h"
#include "node/node.h"
#include "sim/event_queue.h"
#include "sim/metrics.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/sim_places.h"
#include "sim/trace.h"
#include "sim/workload.h"

namespace herd {

class Simulator {
 public:
  Simulator(const Scenario& scenario, uint64_t seed);

  // Receives every input of every node (for traces, determinism checks). Not owned.
  void set_observer(InputObserver* observer) { observer_ = observer; }

  // Called from run_events() after every `every_events` events with the virtual
  // time and the events so far, e.g. to show progress: the simulator reads no clock,
  // its caller may. REQUIRES: every_events > 0; the callback does not touch the run.
  using Progress = std::function<void(int64_t now_ns, uint64_t events)>;
  void set_progress(uint64_t every_events, Progress progress) {
    progress_every_ = every_events;
    progress_ = std::move(progress);
  }

  // Runs to the end: the workload for duration_ns, then until nothing is in flight
  // or drain_ns more have passed, or max_events events. Call once.
  void run_events();
  // The figures of the run so far. Its wall_ns is 0: a caller that wants the rate
  // times run_events() (there is no clock in here).
  Report report() const;
  // run_events(), then report().
  Report run() {
    run_events();
    return report();
  }

  // For traces: the header of this run, and the nodes in header order.
  TraceHeader trace_header() const;
  std::vector<const Node*> nodes() const;
  // Per-update figures, for tests that check them one by one.
  const UpdateTracker& updates() const { return tracker_; }

 private:
  // A directed link's ends, as topology indexes and neighbour indexes.
  struct LinkEnd {
    int from = 0, from_peer = 0;  // Sender; the receiver's index among its neighbours.
    int to = 0, to_peer = 0;      // Receiver; the sender's index among its neighbours.
  };

  Now now_at(int node) const;
  void schedule(SimEventKind kind, int64_t time_ns, uint32_t a = 0, uint32_t b = 0,
                uint32_t c = 0, uint64_t request = 0);
  uint32_t slot_acquire();
  void observe(InputKind kind, int node, int peer, ConnId conn, RequestId request,
               std::string_view text, const PlacesResult* places);
  void apply_effects(int node, uint32_t update);
  void send(int node, int peer, std::string& bytes, uint32_t update);
  void on_reply(int node, const Effect& e);

  void deliver(const SimEvent& e);
  void places_answer(const SimEvent& e);
  void iamat_tick();
  void whatsat_tick();
  void timeline(size_t index);
  void notify_links(const std::vector<char>& blocked_before);
  void start_links();
  void add_bounds(Report* r) const;
  void add_checks(Report* r) const;


  const Scenario& scenario_;
  uint64_t seed_;
  int n_;
  std::vector<NodeConfig> configs_;
  std::vector<Node> nodes_;
  std::vector<char> up_;
  std::vector<uint32_t> epoch_;     // Bumped at each crash: late Places answers are dropped.
  std::vector<int64_t> skew_ns_;    // Each server's wall-clock offset.
  FaultState faults_;
  std::vector<LinkEnd> link_end_;   // By FaultState link id.
  std::vector<int> link_of_;        // link_base_[node] + peer -> FaultState link id.
  std::vector<int> link_base_;
  std::vector<uint32_t> held_;      // Copies in flight per link.
  ClientWorkload workload_;
  SimPlaces places_;
  EventQueue queue_;
  std::vector<std::string> pool_;   // Message and Places bodies in flight, by slot.
  std::vector<uint32_t> free_slots_;
  Effects out_;                     // Reused for every node call.
  UpdateTracker tracker_;
  std::vector<std::string> newest_;  // Per client: the AT line of its newest update.
  InputObserver* observer_ = nullptr;
  Progress progress_;
  uint64_t progress_every_ = 0;

  int64_t now_ns_ = 0;
  ConnId next_conn_ = 1;
  uint64_t events_ = 0, deliveries_ = 0, sends_ = 0, replies_ = 0, invalid_ = 0;
  uint64_t iamats_ = 0, whatsats_ = 0, refused_ = 0, lost_ = 0, bad_replies_ = 0;
  std::vector<std::string> notes_;
  bool ran_ = false;
  bool hit_event_limit_ = false;
};

}  // namespace herd
