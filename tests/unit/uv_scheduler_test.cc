// net/uv_scheduler.h on a real libuv loop (no sockets): order by due time then by
// call order, never early, FIFO through a FaultyLink, close() drops what is left.
#include "net/uv_scheduler.h"
#include "node/fault_channel.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include <uv.h>

#include "node/fault_state.h"
#include "tests/unit/fault_test_util.h"

namespace herd {
namespace {

struct Loop {
  Loop() { uv_loop_init(&loop); }
  ~Loop() {
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);  // Nothing left open.
  }
  uv_loop_t loop;
};

TEST_CASE("uv scheduler: due order, equal dues in call order, never early") {
  Loop l;
  UvScheduler scheduler(&l.loop);
  std::vector<std::pair<std::string, int64_t>> ran;  // (name, ns late or early)
  const int64_t base = scheduler.now().mono_ns;
  auto at = [&](const std::string& name, int64_t delay_ns) {
    scheduler.after(delay_ns, [&, name, delay_ns] {
      ran.emplace_back(name, static_cast<int64_t>(uv_hrtime()) - (base + delay_ns));
    });
  };
  at("c", 30 * kNsPerMs);
  at("a", 10 * kNsPerMs);
  at("b1", 20 * kNsPerMs + 400'000);  // 20.4 ms: after a 20.0 ms one scheduled later.
  at("zero", 0);
  at("b0", 20 * kNsPerMs);
  at("c2", 30 * kNsPerMs);  // Equal to c: after it.
  CHECK(scheduler.pending() == 6);
  uv_run(&l.loop, UV_RUN_DEFAULT);
  std::vector<std::string> order;
  for (const auto& [name, late_ns] : ran) {
    order.push_back(name);
    CHECK_MESSAGE(late_ns >= 0, name, " ran ", -late_ns, " ns early");
  }
  CHECK(order == std::vector<std::string>{"zero", "a", "b0", "b1", "c", "c2"});
  scheduler.close();
}

TEST_CASE("uv scheduler: a callback may schedule more; close() drops the rest") {
  Loop l;
  UvScheduler scheduler(&l.loop);
  std::vector<int> ran;
  scheduler.now();
  scheduler.after(kNsPerMs, [&] {
    ran.push_back(1);
    scheduler.now();
    scheduler.after(0, [&] { ran.push_back(2); });
    scheduler.after(2 * kNsPerMs, [&] {
      ran.push_back(3);
      scheduler.close();
    });
    scheduler.after(3 * kNsPerMs, [&] { ran.push_back(4); });
  });
  uv_run(&l.loop, UV_RUN_DEFAULT);
  CHECK(ran == std::vector<int>{1, 2, 3});
  CHECK(scheduler.pending() == 0);
  scheduler.after(0, [&] { ran.push_back(5); });  // Ignored once closed.
  CHECK(scheduler.pending() == 0);
}

TEST_CASE("uv scheduler: a constant-delay link stays FIFO through a settings change") {
  Loop l;
  UvScheduler scheduler(&l.loop);
  FaultState state(test_topology(), 1);
  FaultChannel channel(&state);
  REQUIRE(state.execute("set Riley>Jaquez delay=20").ok);
  const int id = state.link_id("Riley", "Jaquez");
  std::vector<std::string> sent, got;
  for (int i = 0; i < 50; ++i) {
    if (i == 25) REQUIRE(state.execute("set Riley>Jaquez delay=1").ok);
    sent.push_back("m" + std::to_string(i));
    const ChannelCopies c = channel.offer(id, Traffic::kProtocol, sent.back().size(), scheduler.now().mono_ns);
    REQUIRE(c.count == 1);
    REQUIRE_FALSE(c.immediate[0]);
    scheduler.after(c.delay_ns[0], [&, message = sent.back()] {
      if (channel.due(id, Traffic::kProtocol, true)) got.push_back(message);
    });
  }
  uv_run(&l.loop, UV_RUN_DEFAULT);
  CHECK(got == sent);
  CHECK(state.counters(id).sent == 50);
  scheduler.close();
}

}  // namespace
}  // namespace herd
