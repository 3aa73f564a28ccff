// The one set of rules for a message on its way from a node to its connection,
// shared by both schedulers (the live host's uv timers, the simulator's event queue):
// which copies go, after what delay, and what becomes of a copy that was held. The
// decisions come from FaultState (node/fault_state.h); the host keeps held copies in
// its own scheduler and asks due() when each comes due.
//
// Protocol messages (floods, sync) meet everything: cut, blackhole, drop, duplicate,
// delay, the bandwidth limit. Control messages (hello, heartbeat) meet only what a
// network does to every byte: cut, blackhole and the bandwidth limit; they take
// nothing from the link's random stream, so they never change the fate of a flood.
//
// A copy goes at once when it has no delay and nothing is held on its link (so a
// link without delays costs no timer); otherwise it is held, at most max_held per
// link (past that it is lost as `overflow`). When a held copy comes due it is lost as
// `cut` or `blackholed` if its link is so by then, as `lost` if its connection is
// gone; otherwise the host writes it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "node/effects.h"
#include "node/fault_state.h"

namespace herd {

constexpr size_t kMaxHeldPerLink = 100'000;

struct ChannelCopies {
  int count = 0;                    // Copies to write: 0, 1 or 2.
  int64_t delay_ns[2] = {0, 0};     // From now.
  bool immediate[2] = {false, false};  // Write now; otherwise hold for delay_ns.
  Decision decision;                // Protocol messages: for the fault log.
};

class FaultChannel {
 public:
  // REQUIRES: `state` outlives the channel.
  explicit FaultChannel(FaultState* state, size_t max_held = kMaxHeldPerLink);

  // A message of `bytes` bytes (without its '\n') handed to directed link `link`.
  // REQUIRES: now_ns never decreases.
  ChannelCopies offer(int link, Traffic traffic, uint64_t bytes, int64_t now_ns);
  // A copy offer() held came due; whether to write it (if not, it was counted).
  bool due(int link, Traffic traffic, bool conn_open);
  // The connection carrying `link` closed (FaultState::reset_pacing).
  void closed(int link, int64_t now_ns) { state_->reset_pacing(link, now_ns); }

  size_t held(int link) const { return held_[static_cast<size_t>(link)]; }
  // Of those, protocol copies: the ones FaultState's counters cover (status's queued).
  size_t held_protocol(int link) const { return held_protocol_[static_cast<size_t>(link)]; }
  FaultState& state() { return *state_; }
  const FaultState& state() const { return *state_; }

 private:
  FaultState* state_;
  size_t max_held_;
  std::vector<uint32_t> held_;           // By link id.
  std::vector<uint32_t> held_protocol_;  // By link id.
};

}  // namespace herd
