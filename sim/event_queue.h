// The simulator's agenda: events ordered by (virtual time, sequence number). The
// sequence number is the order of scheduling, so events due at the same time run
// in the order they were scheduled (DESIGN.md: ties break by sequence, never by
// address or hash). Events are small tagged structs, not closures: the simulator
// runs millions of them per second and a std::function per event would cost an
// allocation each.
#pragma once
#include <cstdint>
#include <vector>

#include "node/check.h"

namespace herd {

enum class SimEventKind : uint8_t {
  kDeliver,       // a = connection, b = direction: its receiver reads one message.
  kDue,           // a = held copy: the fault channel's delay is over.
  kDialed,        // a = node, b = peer index, c = connection (0: refused);
                  // request = the dial's attempt number.
  kClosed,        // a = node, request = its connection id: the other end closed it.
  kBackpressure,  // a = node, b = 1 full / 0 drained, request = its connection id.
  kTimer,         // a = node, b = timer, c = generation (stale ones are ignored).
  kPlaces,        // a = node, b = message slot holding the body, c = node epoch;
                  // request = the node's RequestId.
  kClient,        // a = node, b = message slot holding the line, request = conn id:
                  // a client command held while its server was paused.
  kIamatTick,     // The workload's next IAMAT.
  kWhatsatTick,   // The workload's next WHATSAT.
  kTimeline,      // a = index into the fault plan's timeline.
};

struct SimEvent {
  int64_t time_ns = 0;
  uint64_t seq = 0;
  uint64_t request = 0;
  uint32_t a = 0, b = 0, c = 0;
  SimEventKind kind = SimEventKind::kDeliver;
};

// A binary min-heap on (time_ns, seq). Not std::priority_queue only because top()
// then pop() would copy; this pops by value.
class EventQueue {
 public:
  // Stamps the event with the next sequence number. REQUIRES: time_ns is not before
  // the last event popped (the simulation never schedules into the past).
  void push(SimEvent e) {
    HERD_ASSERT(e.time_ns >= last_popped_ns_);
    e.seq = next_seq_++;
    heap_.push_back(e);
    sift_up(heap_.size() - 1);
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  size_t capacity() const { return heap_.capacity(); }  // For the memory budget.
  const SimEvent& top() const { return heap_.front(); }
  SimEvent pop() {
    HERD_ASSERT(!heap_.empty());
    SimEvent out = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
    last_popped_ns_ = out.time_ns;
    return out;
  }

 private:
  static bool before(const SimEvent& x, const SimEvent& y) {
    return x.time_ns != y.time_ns ? x.time_ns < y.time_ns : x.seq < y.seq;
  }
  void sift_up(size_t i) {
    SimEvent e = heap_[i];
    while (i > 0) {
      size_t parent = (i - 1) / 2;
      if (!before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  void sift_down(size_t i) {
    SimEvent e = heap_[i];
    const size_t n = heap_.size();
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], e)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = e;
  }

  std::vector<SimEvent> heap_;
  uint64_t next_seq_ = 0;
  int64_t last_popped_ns_ = INT64_MIN;
};

}  // namespace herd
