#include "sim/bench_cli.h"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "net/bench_client.h"
#include "sim/bench_verify.h"

namespace herd {
namespace {

using bench::BenchConfig;
using bench::BenchReport;
using bench::Endpoint;
using bench::sample_clients;
using bench::Verified;
using bench::verify;

constexpr char kHelp[] =
    "usage: herd bench --target HOST:PORT [options]\n"
    "  --target HOST:PORT       server receiving the IAMATs (required)\n"
    "  --connections N          load connections (default 4; 0: no load)\n"
    "  --pipeline N             closed loop: requests in flight per connection (16)\n"
    "  --rate N                 open loop: requests/s overall (0: closed loop, default)\n"
    "  --duration-s X           measured seconds (5), after --warmup-s X (0.5)\n"
    "  --clients N              distinct client ids, every IAMAT newer (1000)\n"
    "  --count N                stop after N requests (0: duration only)\n"
    "  --hold N                 idle connections held during the run, each answers one IAMAT\n"
    "  --visibility HOST:PORT   far server: flood visibility probes (WHATSAT polling)\n"
    "  --visibility-samples N   probes (200), one every --visibility-interval-ms N (5)\n"
    "  --verify HOST:PORT,...   after the run, check each client's newest record there\n"
    "  --verify-max N           clients checked per server, evenly spaced (1000)\n"
    "  --verify-timeout-s X     per server, for late floods to arrive (5)\n"
    "  --cpu-pids PID,...       report these processes' CPU time per reply (measured window)\n"
    "  --json                   one JSON object instead of text\n";

struct Options {
  BenchConfig config;
  std::vector<Endpoint> verify;
  int64_t verify_max = 1'000;
  int64_t verify_timeout_ms = 5'000;
  bool json = false;
  bool help = false;
};

bool parse_int(std::string_view text, int64_t min, int64_t max, int64_t* out) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

bool parse_ms(std::string_view text, int64_t* out_ms) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !(seconds >= 0) || seconds > 3600) {
    return false;
  }
  *out_ms = static_cast<int64_t>(seconds * 1000 + 0.5);
  return true;
}

bool parse_pids(std::string_view text, std::vector<int>* out) {
  while (!text.empty()) {
    size_t comma = text.find(',');
    int64_t pid = 0;
    if (!parse_int(text.substr(0, comma), 1, INT32_MAX, &pid)) return false;
    out->push_back(static_cast<int>(pid));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return true;
}

bool parse_endpoints(std::string_view text, std::vector<Endpoint>* out) {
  while (!text.empty()) {
    size_t comma = text.find(',');
    Endpoint e;
    if (!bench::parse_endpoint(text.substr(0, comma), &e)) return false;
    out->push_back(e);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return true;
}

// One flag and its value; false with *error set when it is unknown or malformed.
bool apply_flag(std::string_view flag, std::string_view v, Options* o, std::string* error) {
  BenchConfig& c = o->config;
  int64_t n = 0;
  bool ok = true;
  if (flag == "--target") ok = bench::parse_endpoint(v, &c.target);
  else if (flag == "--visibility") ok = bench::parse_endpoint(v, &c.visibility);
  else if (flag == "--verify") ok = parse_endpoints(v, &o->verify);
  else if (flag == "--cpu-pids") ok = parse_pids(v, &c.cpu_pids);
  else if (flag == "--duration-s") ok = parse_ms(v, &c.duration_ms);
  else if (flag == "--warmup-s") ok = parse_ms(v, &c.warmup_ms);
  else if (flag == "--connections") ok = parse_int(v, 0, 100'000, &n), c.connections = int(n);
  else if (flag == "--pipeline") ok = parse_int(v, 1, 100'000, &n), c.pipeline = int(n);
  else if (flag == "--rate") ok = parse_int(v, 0, 100'000'000, &c.rate);
  else if (flag == "--clients") ok = parse_int(v, 1, 100'000'000, &c.clients);
  else if (flag == "--count") ok = parse_int(v, 0, int64_t{1} << 40, &c.count);
  else if (flag == "--hold") ok = parse_int(v, 0, 1'000'000, &n), c.hold = int(n);
  else if (flag == "--visibility-samples") {
    ok = parse_int(v, 0, 1'000'000, &n), c.visibility_samples = int(n);
  } else if (flag == "--visibility-interval-ms") {
    ok = parse_int(v, 1, 60'000, &c.visibility_interval_ms);
  }
  else if (flag == "--verify-max") ok = parse_int(v, 1, 100'000'000, &o->verify_max);
  else if (flag == "--verify-timeout-s") ok = parse_ms(v, &o->verify_timeout_ms);
  else {
    *error = "unknown option " + std::string(flag);
    return false;
  }
  if (!ok) *error = std::string(flag) + ": bad value \"" + std::string(v) + "\"";
  return ok;
}

bool parse_options(int argc, char** argv, Options* o, std::string* error) {
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") o->help = true;
    else if (arg == "--json") o->json = true;
    else {
      size_t eq = arg.find('=');
      std::string_view flag = arg.substr(0, eq), value;
      if (eq != std::string_view::npos) value = arg.substr(eq + 1);
      else if (i + 1 < argc) value = argv[++i];
      else return *error = std::string(arg) + ": missing value", false;
      if (!apply_flag(flag, value, o, error)) return false;
    }
  }
  if (!o->help && o->config.target.port == 0) return *error = "--target is required", false;
  return true;
}


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

void print_json(const Options& o, const BenchReport& r, const std::vector<Verified>& ver) {
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
                "\"missing\": %lld, \"failed\": %lld}",
                i ? ", " : "", v.server.text().c_str(), static_cast<long long>(v.checked),
                static_cast<long long>(v.current), static_cast<long long>(v.stale),
                static_cast<long long>(v.missing), static_cast<long long>(v.failed));
  }
  std::printf("]}\n");
}

void print_text(const Options& o, const BenchReport& r, const std::vector<Verified>& ver) {
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
    std::printf("bench: verify %s: %lld checked, %lld current, %lld stale, %lld missing, %lld "
                "not answered in time\n",
                v.server.text().c_str(), static_cast<long long>(v.checked),
                static_cast<long long>(v.current), static_cast<long long>(v.stale),
                static_cast<long long>(v.missing), static_cast<long long>(v.failed));
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
    std::fprintf(stderr, "herd bench: open files limited to %llu; --hold %d may fail\n",
                 static_cast<unsigned long long>(r.rlim_cur), hold);
  }
}

}  // namespace

int bench_command(int argc, char** argv) {
  Options o;
  std::string error;
  if (!parse_options(argc, argv, &o, &error)) {
    std::fprintf(stderr, "herd bench: %s\n%s", error.c_str(), kHelp);
    return 2;
  }
  if (o.help) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  raise_nofile(o.config.hold);
  Result<BenchReport> r = bench::run_bench(o.config);
  if (!r.ok()) {
    std::fprintf(stderr, "herd bench: %s\n", r.error().c_str());
    return 1;
  }
  std::vector<Verified> ver;
  std::vector<int64_t> sample = sample_clients(r.value(), o.verify_max);
  for (const Endpoint& e : o.verify) {
    ver.push_back(verify(e, r.value(), sample, std::chrono::milliseconds(o.verify_timeout_ms)));
  }
  if (o.json) print_json(o, r.value(), ver);
  else print_text(o, r.value(), ver);
  std::fflush(stdout);
  if (o.config.connections > 0 && r.value().load_connected == 0) {
    std::fprintf(stderr, "herd bench: could not connect to %s\n", o.config.target.text().c_str());
    return 1;
  }
  return 0;
}

}  // namespace herd
