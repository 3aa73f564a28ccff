#include "node/check.h"
#include "node/fault_model.h"

#include <algorithm>

#include "node/fault_text.h"

namespace herd {

DelayDist DelayDist::constant(int64_t value_ns) {
  DelayDist d;
  d.value_ns = value_ns;
  return d;
}

DelayDist DelayDist::uniform(int64_t min_ns, int64_t max_ns) {
  DelayDist d;
  d.kind = DelayKind::kUniform;
  d.min_ns = min_ns;
  d.max_ns = max_ns;
  return d;
}

DelayDist DelayDist::exponential(int64_t min_ns, int64_t mean_ns) {
  DelayDist d;
  d.kind = DelayKind::kExponential;
  d.min_ns = min_ns;
  d.mean_ns = mean_ns;
  return d;
}

bool DelayDist::random() const {
  switch (kind) {
    case DelayKind::kConstant: return false;
    case DelayKind::kUniform: return min_ns != max_ns;
    case DelayKind::kExponential: return mean_ns != min_ns;
  }
  return false;
}

std::string DelayDist::invalid() const {
  auto in_range = [](int64_t ns) { return ns >= 0 && ns <= kMaxDelayNs; };
  switch (kind) {
    case DelayKind::kConstant:
      if (!in_range(value_ns)) return "must be between 0 and 3600000 ms";
      return "";
    case DelayKind::kUniform:
      if (!in_range(min_ns) || !in_range(max_ns)) return "must be between 0 and 3600000 ms";
      if (min_ns > max_ns) return "min must not exceed max";
      return "";
    case DelayKind::kExponential:
      if (!in_range(min_ns) || !in_range(mean_ns)) return "must be between 0 and 3600000 ms";
      if (min_ns > mean_ns) return "min must not exceed mean";
      return "";
  }
  return "unknown distribution";
}

std::string DelayDist::text() const {
  switch (kind) {
    case DelayKind::kConstant: return ms_text(value_ns) + "ms";
    case DelayKind::kUniform: return ms_text(min_ns) + "-" + ms_text(max_ns) + "ms";
    case DelayKind::kExponential:
      return "exp:" + ms_text(min_ns) + ":" + ms_text(mean_ns) + "ms";
  }
  return "?";
}

std::string LinkFaults::text() const {
  std::string out = "drop=" + probability_text(drop) + " delay=" + delay.text() +
                    " dup=" + probability_text(duplicate);
  if (bandwidth_kbps > 0) out += " bandwidth_kbps=" + std::to_string(bandwidth_kbps);
  return out;
}

bool Decision::faulty() const {
  if (fate != Fate::kDeliver) return true;
  return copies == 2 || delay_ns[0] > 0;
}

std::string fault_text(const Decision& decision, std::string_view link_label) {
  if (!decision.faulty()) return "";
  std::string head = "fault ";
  if (decision.fate == Fate::kDrop) head += "drop ";
  else if (decision.fate == Fate::kCut) head += "cut ";
  else if (decision.fate == Fate::kBlackhole) head += "blackhole ";
  else head += decision.copies == 2 ? "duplicate " : "delay ";
  head += link_label;
  head += " msg#" + std::to_string(decision.msg);
  if (decision.fate != Fate::kDeliver) return head;
  head += " delay_ns=" + std::to_string(decision.delay_ns[0]);
  if (decision.copies == 2) head += "," + std::to_string(decision.delay_ns[1]);
  return head;
}

LinkModel::LinkModel(uint64_t seed, std::string_view label, LinkFaults faults)
    : stream_(derive(seed, label)), faults_(faults) {
  HERD_ASSERT(faults_.delay.invalid().empty());
}

void LinkModel::set_faults(const LinkFaults& faults) {
  HERD_ASSERT(faults.delay.invalid().empty());
  faults_ = faults;
}

Decision LinkModel::decide(int64_t now_ns) {
  Decision d;
  d.msg = ++messages_;
  // One number from the link's stream per message, whatever its fate.
  Rng rng(stream_.next_u64());
  if (rng.bernoulli(faults_.drop)) {
    d.fate = Fate::kDrop;
    return d;
  }
  d.copies = rng.bernoulli(faults_.duplicate) ? 2 : 1;
  for (int i = 0; i < d.copies; ++i) d.delay_ns[i] = fifo_delay(draw_delay(rng), now_ns);
  return d;
}

Decision LinkModel::skip(Fate fate) {
  Decision d;
  d.msg = ++messages_;
  stream_.next_u64();
  d.fate = fate;
  return d;
}

int64_t LinkModel::draw_delay(Rng& rng) const {
  const DelayDist& dist = faults_.delay;
  switch (dist.kind) {
    case DelayKind::kConstant: return dist.value_ns;
    case DelayKind::kUniform: return rng.uniform_i64(dist.min_ns, dist.max_ns);
    case DelayKind::kExponential:
      return std::min(kMaxDelayNs, dist.min_ns + rng.exponential(dist.mean_ns - dist.min_ns));
  }
  return 0;
}

// Random delays may reorder; a constant delay never schedules before the latest
// delivery already scheduled, so the link stays FIFO across settings changes too.
int64_t LinkModel::fifo_delay(int64_t delay_ns, int64_t now_ns) {
  int64_t due_ns = now_ns + delay_ns;
  if (!faults_.delay.random() && due_ns < last_due_ns_) due_ns = last_due_ns_;
  last_due_ns_ = std::max(last_due_ns_, due_ns);
  return due_ns - now_ns;
}

}  // namespace herd
