// FaultyLink: the fault-injecting decorator of the link layer (DESIGN.md; like
// leveldb's EnvWrapper). It wraps one directed link (TCP in net/, simulated in sim/)
// and, for each message, asks FaultState what happens to it: lost (drop, cut,
// partition, crashed end), passed on at once, passed on after a delay, or passed on
// twice. Time and timers come from a Scheduler the host provides (uv timers live,
// the event queue in the simulator); the decorator reads no clock itself.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "node/clock.h"
#include "node/fault_state.h"
#include "node/link.h"

namespace herd {

// The host's clock and timers, as the fault layer needs them.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual Now now() = 0;
  // Runs fn once, delay_ns (>= 0) from now, on the host's thread. REQUIRES:
  // callbacks due at the same time run in the order after() was called, and a later
  // due time never runs first (a host rounding to milliseconds must round every
  // delay the same way, e.g. up), or constant-delay links would not stay FIFO.
  virtual void after(int64_t delay_ns, std::function<void()> fn) = 0;
};

// Limits: copies held for a delay, per link; past it a copy is lost as "overflow".
constexpr size_t kMaxHeldPerLink = 100'000;

class FaultyLink final : public Link {
 public:
  // Receives a line for every injected fault ("fault drop Riley>Jaquez msg#17"); the
  // host logs it.
  using FaultLog = std::function<void(std::string_view text)>;

  // REQUIRES: link_id is state's id of this directed link; inner, scheduler and state
  // outlive this object. Copies still held when it is destroyed are never sent (and
  // their callbacks touch none of the three).
  FaultyLink(Link* inner, Scheduler* scheduler, FaultState* state, int link_id,
             FaultLog log = {}, size_t max_held = kMaxHeldPerLink);
  ~FaultyLink() override;
  FaultyLink(const FaultyLink&) = delete;
  FaultyLink& operator=(const FaultyLink&) = delete;

  // Never blocks. A copy with zero delay goes to the inner link at once unless
  // earlier copies are still held (then it queues behind them, for FIFO).
  void send(std::string_view message) override;
  // The inner link's state: a cut is silent loss, as in a real partition, so a node
  // keeps sending into it (a crashed server's host closes its real links instead).
  bool up() const override;

  size_t held() const;  // Copies waiting for their delay.

 private:
  // Shared with pending callbacks, so they can tell the link is gone.
  struct Core {
    Link* inner = nullptr;
    FaultState* state = nullptr;
    int link = -1;
    FaultLog log;
    size_t held = 0;
    bool alive = true;
  };
  static void deliver_held(const std::shared_ptr<Core>& core, uint64_t msg,
                           const std::string& message);
  void hold(uint64_t msg, int64_t delay_ns, std::string_view message);

  Scheduler* scheduler_;
  size_t max_held_;
  std::shared_ptr<Core> core_;
};

}  // namespace herd
