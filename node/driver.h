// The one way every host feeds a node (the live host, the simulator, replay, the
// tests): NodeDriver owns the Node, steps it, and shows each input with its effects
// to its observers (trace recording, metrics), so recording cannot differ by host.
//
// A step's effects live in a buffer the Step handle lends out until it is
// destroyed; a host applying them may step the same driver again (a Places failure
// answered at once), which takes the next buffer. Buffers are reused, so a step
// allocates nothing once the pool has grown.
#pragma once
#include <memory>
#include <span>
#include <vector>

#include "node/input.h"
#include "node/input_observer.h"
#include "node/node.h"

namespace herd {

class NodeDriver {
 public:
  class Step {
   public:
    ~Step() { --driver_->depth_; }
    Step(const Step&) = delete;
    Step& operator=(const Step&) = delete;
    Effects& effects() { return *effects_; }

   private:
    friend class NodeDriver;
    Step(NodeDriver* driver, Effects* effects) : driver_(driver), effects_(effects) {}
    NodeDriver* driver_;
    Effects* effects_;
  };

  NodeDriver(NodeConfig config, int index) : node_(std::move(config)), index_(index) {}

  Step step(const Input& input) {
    if (pool_.size() <= depth_) pool_.push_back(std::make_unique<Effects>());
    Effects* out = pool_[depth_++].get();
    out->clear();
    node_.step(input, out);
    for (InputObserver* o : observers_) o->on_input(index_, input, *out, node_);
    return Step(this, out);
  }

  void add_observer(InputObserver* observer) { observers_.push_back(observer); }
  void clear_observers() { observers_.clear(); }
  const Node& node() const { return node_; }
  int index() const { return index_; }

 private:
  Node node_;
  int index_;
  std::vector<InputObserver*> observers_;
  std::vector<std::unique_ptr<Effects>> pool_;
  size_t depth_ = 0;
};

}  // namespace herd
