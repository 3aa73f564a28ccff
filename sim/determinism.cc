#include "sim/determinism.h"

#include <memory>
#include <span>
#include <vector>

#include "node/hash.h"
#include "sim/report.h"
#include "sim/simulator.h"
#include "sim/trace.h"

namespace herd {
namespace {

// Hashes every input line of a run; compares with a previous run's hashes when
// given, and keeps the line of the first difference or of one asked-for index.
class StreamHasher final : public InputObserver {
 public:
  StreamHasher(const std::vector<NodeConfig>* nodes, const std::vector<uint64_t>* reference,
               std::optional<uint64_t> keep_index)
      : nodes_(nodes), reference_(reference), keep_index_(keep_index) {}

  void on_input(int node, const Input& input, std::span<const Effect> outputs, const Node&) override {
    const uint64_t index = hashes_.size();
    const std::string line = trace_input_line(index, node, input, outputs, *nodes_);
    Hasher h;
    h.bytes(line);
    hashes_.push_back(h.value());
    if (keep_index_ == index) kept_ = line;
    if (reference_ != nullptr && !first_difference_ &&
        (index >= reference_->size() || (*reference_)[index] != hashes_.back())) {
      first_difference_ = index;
      kept_ = line;
    }
  }

  // Both runs' hashes (the second holds the first's while it makes its own), counted
  // as the run goes, so both runs count alike at each input and a run cut short by
  // the memory budget is cut at the same input twice.
  uint64_t memory_bytes() const override { return 2 * hashes_.size() * sizeof(uint64_t); }

  std::vector<uint64_t> hashes_;
  std::optional<uint64_t> first_difference_;
  std::string kept_;

 private:
  const std::vector<NodeConfig>* nodes_;
  const std::vector<uint64_t>* reference_;
  std::optional<uint64_t> keep_index_;
};

}  // namespace

DeterminismResult check_determinism(const Scenario& scenario, uint64_t seed) {
  DeterminismResult result;
  // One run at a time in memory: the first is gone before the second starts.
  auto first = std::make_unique<Simulator>(scenario, seed);
  const std::vector<NodeConfig> nodes = first->trace_header().nodes;
  StreamHasher one(&nodes, nullptr, std::nullopt);
  first->add_observer(&one);
  const Report r1 = first->run();
  first.reset();
  Simulator second(scenario, seed);
  StreamHasher two(&nodes, &one.hashes_, std::nullopt);
  second.add_observer(&two);
  const Report r2 = second.run();
  result.inputs = one.hashes_.size();
  result.digest = r1.digest;
  // The second run may stop short of the first.
  if (!two.first_difference_ && two.hashes_.size() < one.hashes_.size()) {
    two.first_difference_ = two.hashes_.size();
  }
  result.first_difference = two.first_difference_;
  if (!result.first_difference) {
    result.same = report_json(r1, false) == report_json(r2, false);
    if (!result.same) result.run1 = report_json(r1, false), result.run2 = report_json(r2, false);
    return result;
  }
  // The first run kept only hashes: a third run shows its event at that index.
  Simulator third(scenario, seed);
  StreamHasher three(&nodes, nullptr, *result.first_difference);
  third.add_observer(&three);
  third.run();
  result.run1 = three.kept_;
  result.run2 = two.kept_;
  return result;
}

}  // namespace herd
