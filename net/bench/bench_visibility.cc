// The visibility probes of `herd bench` (see net/bench_client.h): one IAMAT for a
// fresh client to the target, then WHATSAT polls at the far server, one at a time,
// until the AT line shows or the sample times out.
#include <string>
#include <string_view>

#include "net/bench/bench_run.h"

namespace herd::bench::detail {

void Run::on_poll_bytes(Conn* c, const char* data, size_t n, int64_t now) {
  c->in.append(data, n);
  size_t pos = 0;
  for (size_t nl; (nl = c->in.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    on_poll_line(std::string_view(c->in).substr(pos, nl - pos), now);
  }
  c->in.erase(0, pos);
}

void Run::on_poll_line(std::string_view line, int64_t now) {
  if (probe == Probe::kDraining) {
    if (line.empty()) probe = Probe::kIdle;  // The WHATSAT reply's closing blank line.
    return;
  }
  if (probe != Probe::kPolling) return;
  if (line.substr(0, 3) == "AT ") {
    rep.visibility.record(poll_sent - probe_t0);
    probe = Probe::kDraining;
    return;
  }
  rep.poll_rtt.record(now - poll_sent);
  if (now - probe_t0 > cfg.visibility_timeout_ms * 1'000'000) {
    ++rep.visibility_lost;
    probe = Probe::kIdle;
    return;
  }
  send_poll();
}

void Run::send_poll() {
  vis_poll->out += "WHATSAT " + probe_id + " 10 1\n";
  poll_sent = mono_ns();
  flush(vis_poll.get());
}

void Run::maybe_start_sample(int64_t now) {
  if (!vis_poll || probe != Probe::kIdle || now < next_sample) return;
  if (samples_started >= cfg.visibility_samples) return;
  if (!vis_poll->connected || vis_poll->closed || !vis_iamat->connected || vis_iamat->closed) {
    return;
  }
  probe_id = rep.id_prefix + "-v" + std::to_string(samples_started++);
  vis_iamat->out = "IAMAT " + probe_id + std::string(kLocation);
  append_time(&vis_iamat->out, wall_ns());
  vis_iamat->out += '\n';
  probe_t0 = mono_ns();
  flush(vis_iamat.get());
  probe = Probe::kPolling;
  send_poll();
  next_sample = now + cfg.visibility_interval_ms * 1'000'000;
}

}  // namespace herd::bench::detail
