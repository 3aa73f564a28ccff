#include "node/faulty_link.h"

#include <cassert>
#include <string>
#include <utility>

namespace herd {

FaultyLink::FaultyLink(Link* inner, Scheduler* scheduler, FaultState* state, int link_id,
                       FaultLog log, size_t max_held)
    : scheduler_(scheduler), max_held_(max_held), core_(std::make_shared<Core>()) {
  assert(inner != nullptr && scheduler != nullptr && state != nullptr);
  assert(link_id >= 0 && link_id < state->link_count());
  core_->inner = inner;
  core_->state = state;
  core_->link = link_id;
  core_->log = std::move(log);
}

FaultyLink::~FaultyLink() { core_->alive = false; }

bool FaultyLink::up() const { return core_->inner->up(); }

size_t FaultyLink::held() const { return core_->held; }

void FaultyLink::send(std::string_view message) {
  Core& core = *core_;
  const Decision decision = core.state->decide(core.link, scheduler_->now().mono_ns);
  if (core.log) {
    const std::string text = fault_text(decision, core.state->label(core.link));
    if (!text.empty()) core.log(text);
  }
  for (int i = 0; i < decision.copies; ++i) {
    // Zero delay skips the timer, unless held copies must go first.
    if (decision.delay_ns[i] == 0 && core.held == 0) {
      core.inner->send(message);
    } else {
      hold(decision.msg, decision.delay_ns[i], message);
    }
  }
}

void FaultyLink::hold(uint64_t msg, int64_t delay_ns, std::string_view message) {
  Core& core = *core_;
  if (core.held >= max_held_) {
    core.state->count_overflow(core.link);
    if (core.log) {
      core.log("fault overflow " + core.state->label(core.link) + " msg#" + std::to_string(msg));
    }
    return;
  }
  ++core.held;
  scheduler_->after(delay_ns, [core = core_, msg, copy = std::string(message)] {
    deliver_held(core, msg, copy);
  });
}

// A cut, partition or crash made while a copy was held loses it too.
void FaultyLink::deliver_held(const std::shared_ptr<Core>& core, uint64_t msg,
                              const std::string& message) {
  if (!core->alive) return;
  assert(core->held > 0);
  --core->held;
  if (core->state->blocked(core->link)) {
    core->state->count_cut(core->link);
    if (core->log) {
      core->log("fault cut " + core->state->label(core->link) + " msg#" + std::to_string(msg) +
                " held");
    }
    return;
  }
  core->inner->send(message);
}

}  // namespace herd
