// The phases of a `herd bench` run (connect, load, drain, done), driven by a 1 ms
// ticker; the open-loop pacer; the server CPU time over the measured window.
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <uv.h>

#include "node/check.h"
#include "net/bench/bench_run.h"

namespace herd::bench::detail {
namespace {

void pacer_cb(uv_poll_t* poll, int, int) noexcept { static_cast<Run*>(poll->data)->pace(); }

// User + system clock ticks of `pids` so far (proc(5) stat fields 14 and 15).
int64_t cpu_ticks(const std::vector<int>& pids) {
  int64_t total = 0;
  for (int pid : pids) {
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) continue;
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* p = std::strrchr(buf, ')');  // The command name may hold spaces.
    long long utime = 0, stime = 0;
    if (p != nullptr && std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld",
                                    &utime, &stime) == 2) {
      total += utime + stime;
    }
  }
  return total;
}

}  // namespace

void Run::tick() {
  int64_t now = mono_ns();
  if (phase == Phase::kLoad && cpu_ticks_from < 0 && now >= measure_from && !cfg.cpu_pids.empty()) {
    cpu_ticks_from = cpu_ticks(cfg.cpu_pids);
  }
  if (phase == Phase::kConnect) {
    continue_holds();
    if (connects_done() || now >= phase_deadline) begin_load(now);
  } else if (phase == Phase::kLoad) {
    maybe_start_sample(now);
    bool samples_done = !vis_poll || (samples_started >= cfg.visibility_samples &&
                                      probe == Probe::kIdle);
    bool count_done = cfg.count > 0 && seq >= cfg.count;
    bool no_load = load.empty() && cfg.hold == 0;
    if (now >= stop_send || (count_done && samples_done) || (no_load && samples_done)) {
      begin_drain(now);
    }
  } else if (phase == Phase::kDrain) {
    if ((owed() == 0 && probe == Probe::kIdle) || now >= phase_deadline) finish(now);
  }
}

void Run::begin_load(int64_t now) {
  phase = Phase::kLoad;
  load_start = now;
  measure_from = now + cfg.warmup_ms * 1'000'000;
  stop_send = measure_from + cfg.duration_ms * 1'000'000;
  next_sample = now;
  sending = true;
  if (cfg.rate == 0) {
    for (auto& c : load) {
      if (!c->connected || c->closed) continue;
      for (int i = 0; i < cfg.pipeline && append_request(c.get()); ++i) {}
      flush(c.get());
    }
    return;
  }
  if (load.empty()) return;
  pacer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  HERD_ASSERT(pacer_fd >= 0);
  // Why a timerfd: libuv timers tick in whole ms, which would send in ms bursts.
  int64_t step_ns = std::clamp<int64_t>(1'000'000'000 / cfg.rate, 100'000, 1'000'000);
  struct itimerspec spec = {};
  spec.it_interval.tv_nsec = step_ns;
  spec.it_value.tv_nsec = step_ns;
  timerfd_settime(pacer_fd, 0, &spec, nullptr);
  uv_poll_init(&loop, &pacer, pacer_fd);
  pacer.data = this;
  uv_poll_start(&pacer, UV_READABLE, pacer_cb);
}

void Run::pace() {
  uint64_t expirations;
  if (read(pacer_fd, &expirations, sizeof expirations) < 0 || !sending) return;
  int64_t now = mono_ns();
  auto due = static_cast<int64_t>(static_cast<__int128>(now - load_start) * cfg.rate /
                                  1'000'000'000);
  if (cfg.count > 0) due = std::min(due, cfg.count);
  if (due <= scheduled) return;
  auto first_ns = static_cast<int64_t>(static_cast<__int128>(scheduled) * 1'000'000'000 / cfg.rate);
  rep.send_lag.record(now - (load_start + first_ns));
  for (; scheduled < due; ++scheduled) {
    bool sent = false;
    for (size_t tries = 0; tries < load.size() && !sent; ++tries) {
      Conn* c = load[round_robin++ % load.size()].get();
      if (c->connected && !c->closed && c->sent_ns.size() < kMaxOwedOpenLoop) {
        sent = append_request(c);
      }
    }
    if (!sent) ++rep.open_loop_skipped;
  }
  for (auto& c : load) flush(c.get());
}

void Run::begin_drain(int64_t now) {
  if (cpu_ticks_from >= 0) {
    rep.server_cpu_s = static_cast<double>(cpu_ticks(cfg.cpu_pids) - cpu_ticks_from) /
                       static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  phase = Phase::kDrain;
  phase_deadline = now + cfg.drain_timeout_ms * 1'000'000;
  sending = false;
  if (pacer_fd >= 0) uv_poll_stop(&pacer);
}

void Run::finish(int64_t now) {
  phase = Phase::kDone;
  rep.unanswered += owed();
  int64_t end = std::min(stop_send, last_measured > 0 ? last_measured : now);
  rep.measured_s = end > measure_from ? static_cast<double>(end - measure_from) / 1e9 : 0.0;
  for (auto& c : hold) rep.hold_open_at_end += c->connected && !c->closed ? 1 : 0;
  for (auto& c : load) close_conn(c.get());
  for (auto& c : hold) close_conn(c.get());
  if (vis_iamat) close_conn(vis_iamat.get());
  if (vis_poll) close_conn(vis_poll.get());
  uv_close(reinterpret_cast<uv_handle_t*>(&ticker), nothing_cb);
  if (pacer_fd >= 0) uv_close(reinterpret_cast<uv_handle_t*>(&pacer), nothing_cb);
}

}  // namespace herd::bench::detail
