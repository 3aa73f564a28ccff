#include "node/check.h"
#include "node/fault_channel.h"


namespace herd {

FaultChannel::FaultChannel(FaultState* state, size_t max_held)
    : state_(state),
      max_held_(max_held),
      held_(static_cast<size_t>(state->link_count()), 0),
      held_protocol_(held_.size(), 0) {}

ChannelCopies FaultChannel::offer(int link, Traffic traffic, uint64_t bytes, int64_t now_ns) {
  ChannelCopies c;
  int64_t delay[2] = {0, 0};
  int copies = 0;
  if (traffic == Traffic::kProtocol) {
    c.decision = state_->decide(link, now_ns);
    if (c.decision.fate != Fate::kDeliver) return c;
    copies = c.decision.copies;
    delay[0] = c.decision.delay_ns[0];
    delay[1] = c.decision.delay_ns[1];
  } else {
    if (state_->blocked(link) || state_->blackholed(link)) return c;
    copies = 1;
  }
  uint32_t& held = held_[static_cast<size_t>(link)];
  for (int i = 0; i < copies; ++i) {
    // Each copy leaves after the one before it, at the link's bandwidth; then its delay.
    const int64_t leaves = state_->transmit(link, bytes + 1, now_ns) - now_ns;
    const int64_t total = leaves + delay[i];
    if (total == 0 && held == 0) {
      c.immediate[c.count] = true;
    } else if (held >= max_held_) {
      if (traffic == Traffic::kProtocol) state_->count_overflow(link);
      continue;
    } else {
      ++held;
      if (traffic == Traffic::kProtocol) ++held_protocol_[static_cast<size_t>(link)];
    }
    c.delay_ns[c.count++] = total;
  }
  return c;
}

bool FaultChannel::due(int link, Traffic traffic, bool conn_open) {
  uint32_t& held = held_[static_cast<size_t>(link)];
  HERD_ASSERT(held > 0);
  --held;
  const bool protocol = traffic == Traffic::kProtocol;
  if (protocol) {
    HERD_ASSERT(held_protocol_[static_cast<size_t>(link)] > 0);
    --held_protocol_[static_cast<size_t>(link)];
  }
  if (state_->blocked(link)) {
    if (protocol) state_->count_cut(link);
    return false;
  }
  if (state_->blackholed(link)) {
    if (protocol) state_->count_blackholed(link);
    return false;
  }
  if (!conn_open) {
    if (protocol) state_->count_lost(link);
    return false;
  }
  return true;
}

}  // namespace herd
