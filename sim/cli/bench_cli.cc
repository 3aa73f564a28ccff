#include "sim/cli/bench_cli.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "net/bench/bench_client.h"
#include "sim/cli/bench_options.h"
#include "sim/cli/bench_verify.h"
#include "node/json_bytes.h"

namespace herd {
namespace {

using bench::BenchConfig;
using bench::BenchReport;
using bench::Endpoint;
using bench::Verified;

double us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string hist_json(const bench::LatencyHistogram& h) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"n\": %llu, \"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"p999\": %.1f, "
                "\"max\": %.1f, \"mean\": %.1f}",
                static_cast<unsigned long long>(h.count()), us(h.quantile(0.5)),
                us(h.quantile(0.9)), us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()),
                h.mean() / 1000.0);
  return buf;
}

std::string hist_text(const bench::LatencyHistogram& h) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f us (n=%llu)",
                us(h.quantile(0.5)), us(h.quantile(0.9)), us(h.quantile(0.99)),
                us(h.quantile(0.999)), us(h.max()), static_cast<unsigned long long>(h.count()));
  return buf;
}

double per_second(const BenchReport& r) {
  return r.measured_s > 0 ? static_cast<double>(r.measured_replies) / r.measured_s : 0.0;
}

void print_json(const BenchOptions& o, const BenchReport& r, const std::vector<Verified>& ver) {
  const BenchConfig& c = o.config;
  std::printf("{\"target\": \"%s\", \"mode\": \"%s\", \"connections\": %d, \"pipeline\": %d, "
              "\"rate\": %lld, \"clients\": %lld, \"duration_s\": %.3f, \"sent\": %llu, "
              "\"replies\": %llu, \"error_replies\": %llu, \"unanswered\": %llu, "
              "\"connect_failures\": %d, \"closed_by_server\": %d, \"replies_per_s\": %.1f, "
              "\"latency_us\": %s, \"send_lag_us\": %s, \"open_loop_skipped\": %llu, ",
              c.target.text().c_str(), c.rate == 0 ? "closed" : "open", c.connections, c.pipeline,
              static_cast<long long>(c.rate), static_cast<long long>(r.clients), r.measured_s,
              static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.replies),
              static_cast<unsigned long long>(r.error_replies),
              static_cast<unsigned long long>(r.unanswered), r.connect_failures,
              r.closed_by_server, per_second(r), hist_json(r.latency).c_str(),
              hist_json(r.send_lag).c_str(), static_cast<unsigned long long>(r.open_loop_skipped));
  double cpu_us = r.server_cpu_s >= 0 && r.measured_replies > 0
                      ? r.server_cpu_s * 1e6 / static_cast<double>(r.measured_replies) : -1;
  std::printf("\"server_cpu_s\": %.2f, \"server_cpu_us_per_reply\": %.2f, ", r.server_cpu_s,
              cpu_us);
  std::printf("\"visibility_us\": %s, \"visibility_lost\": %d, \"poll_rtt_us\": %s, ",
              hist_json(r.visibility).c_str(), r.visibility_lost, hist_json(r.poll_rtt).c_str());
  std::printf("\"hold\": {\"requested\": %d, \"connected\": %d, \"answered\": %d, "
              "\"open_at_end\": %d}, \"verify\": [",
              c.hold, r.hold_connected, r.hold_answered, r.hold_open_at_end);
  for (size_t i = 0; i < ver.size(); ++i) {
    const Verified& v = ver[i];
    std::printf("%s{\"server\": \"%s\", \"checked\": %lld, \"current\": %lld, \"stale\": %lld, "
                "\"missing\": %lld, \"failed\": %lld, \"error\": %s}",
                i ? ", " : "", v.server.text().c_str(), static_cast<long long>(v.checked),
                static_cast<long long>(v.current), static_cast<long long>(v.stale),
                static_cast<long long>(v.missing), static_cast<long long>(v.failed),
                json_bytes(v.error).c_str());
  }
  std::printf("]}\n");
}

void print_text(const BenchOptions& o, const BenchReport& r, const std::vector<Verified>& ver) {
  const BenchConfig& c = o.config;
  std::string mode = c.rate == 0
                         ? "closed loop, " + std::to_string(c.pipeline) + " in flight each"
                         : "open loop at " + std::to_string(c.rate) + "/s";
  std::printf("bench: target %s, %s, %d connections, %lld clients, %.1f s (+%.1f s warm-up)\n",
              c.target.text().c_str(), mode.c_str(), c.connections,
              static_cast<long long>(r.clients), c.duration_ms / 1e3, c.warmup_ms / 1e3);
  if (c.connections > 0) {
    std::printf("bench: %.0f replies/s (%llu in %.2f s); sent %llu, '?' replies %llu, unanswered "
                "%llu, connect failures %d, closed by server %d\n",
                per_second(r), static_cast<unsigned long long>(r.measured_replies), r.measured_s,
                static_cast<unsigned long long>(r.sent),
                static_cast<unsigned long long>(r.error_replies),
                static_cast<unsigned long long>(r.unanswered), r.connect_failures,
                r.closed_by_server);
    std::printf("bench: latency %s\n", hist_text(r.latency).c_str());
    if (r.server_cpu_s >= 0 && r.measured_replies > 0) {
      std::printf("bench: server CPU %.2f s in the window, %.2f us per reply\n", r.server_cpu_s,
                  r.server_cpu_s * 1e6 / static_cast<double>(r.measured_replies));
    }
  }
  if (c.rate > 0) {
    std::printf("bench: send lag %s, skipped %llu\n", hist_text(r.send_lag).c_str(),
                static_cast<unsigned long long>(r.open_loop_skipped));
  }
  if (c.visibility.port != 0) {
    std::printf("bench: visibility at %s: %s, lost %d; poll round trip p50 %.1f us\n",
                c.visibility.text().c_str(), hist_text(r.visibility).c_str(), r.visibility_lost,
                us(r.poll_rtt.quantile(0.5)));
  }
  if (c.hold > 0) {
    std::printf("bench: hold %d: %d connected, %d answered, %d open at end\n", c.hold,
                r.hold_connected, r.hold_answered, r.hold_open_at_end);
  }
  for (const Verified& v : ver) {
    std::string why = v.error.empty() ? "" : " (" + v.error + ")";
    std::printf("bench: verify %s: %lld checked, %lld current, %lld stale, %lld missing, %lld "
                "not answered%s\n",
                v.server.text().c_str(), static_cast<long long>(v.checked),
                static_cast<long long>(v.current), static_cast<long long>(v.stale),
                static_cast<long long>(v.missing), static_cast<long long>(v.failed),
                why.c_str());
  }
}

void raise_nofile(int hold) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  rlim_t want = static_cast<rlim_t>(hold) + 1024;
  if (r.rlim_cur >= want) return;
  r.rlim_cur = std::min(want, r.rlim_max);
  setrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < want) {
    std::fprintf(stderr, "herd: bench: open files limited to %llu; --hold %d may fail\n",
                 static_cast<unsigned long long>(r.rlim_cur), hold);
  }
}

// With --verify: 1, after a line per server that fell short, unless every sampled
// client is current at every server.
int verify_status(const BenchOptions& o, const std::vector<int64_t>& sample,
                  const std::vector<Verified>& ver) {
  if (o.verify.empty()) return 0;
  if (sample.empty()) {
    std::fprintf(stderr, "herd: bench: verify: no client made a request, nothing to check\n");
    return 1;
  }
  int status = 0;
  for (const Verified& v : ver) {
    if (v.all_current()) continue;
    std::fprintf(stderr,
                 "herd: bench: verify failed at %s: %lld of %lld clients not current (%lld "
                 "stale, %lld missing, %lld not answered)%s%s\n",
                 v.server.text().c_str(), static_cast<long long>(v.checked - v.current),
                 static_cast<long long>(v.checked), static_cast<long long>(v.stale),
                 static_cast<long long>(v.missing), static_cast<long long>(v.failed),
                 v.error.empty() ? "" : ": ", v.error.c_str());
    status = 1;
  }
  return status;
}

}  // namespace

int bench_command(int argc, char** argv) {
  Result<BenchOptions> parsed = parse_bench_options(std::vector<std::string>(argv, argv + argc));
  if (!parsed.ok()) {
    std::fprintf(stderr, "herd: bench: %s\n", parsed.error().c_str());
    return 2;
  }
  const BenchOptions& o = parsed.value();
  if (o.help) {
    std::fputs(kBenchHelp, stdout);
    return 0;
  }
  raise_nofile(o.config.hold);
  Result<BenchReport> r = bench::run_bench(o.config);
  if (!r.ok()) {
    std::fprintf(stderr, "herd: bench: %s\n", r.error().c_str());
    return 1;
  }
  std::vector<int64_t> sample = bench::sample_clients(r.value(), o.verify_max);
  std::vector<Verified> ver;
  if (!o.verify.empty() && !sample.empty()) {
    ver = bench::verify_all(o.verify, r.value(), sample,
                            std::chrono::milliseconds(o.verify_timeout_ms));
  }
  if (o.json) print_json(o, r.value(), ver);
  else print_text(o, r.value(), ver);
  std::fflush(stdout);
  if (o.config.connections > 0 && r.value().load_connected == 0) {
    std::fprintf(stderr, "herd: bench: could not connect to %s\n", o.config.target.text().c_str());
    return 1;
  }
  return verify_status(o, sample, ver);
}

}  // namespace herd
