// The seam through which a host's inputs are seen as they happen: a trace recorder
// (sim/trace.h), the simulator's metrics, a test. NodeDriver (node/driver.h) shows
// every input it feeds, with the effects it produced and the node after it.
#pragma once
#include <cstdint>
#include <span>

#include "node/effects.h"
#include "node/input.h"

namespace herd {

class Node;

class InputObserver {
 public:
  virtual ~InputObserver() = default;
  // `node_index` is the driver's index (the trace header's node). Views in `input`
  // and `outputs` are valid during the call only.
  virtual void on_input(int node_index, const Input& input, std::span<const Effect> outputs,
                        const Node& node) = 0;
  // The bytes this observer holds in memory and grows with the run (a host's memory
  // budget counts them: sim/memory_budget.h); 0 for one that keeps nothing.
  virtual uint64_t memory_bytes() const { return 0; }
};

}  // namespace herd
