#include "sim/bench_cli.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/bench_client.h"

namespace herd {
namespace {

using bench::BenchConfig;
using bench::BenchReport;
using bench::Endpoint;
using Clock = std::chrono::steady_clock;

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

// A blocking loopback client for the verifier; every read is bounded by poll().
class LineClient {
 public:
  ~LineClient() { if (fd_ >= 0) ::close(fd_); }
  bool connect(const Endpoint& e) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(e.port));
    if (fd_ < 0 || inet_pton(AF_INET, e.host.c_str(), &a.sin_addr) != 1) return false;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return ::connect(fd_, reinterpret_cast<struct sockaddr*>(&a), sizeof a) == 0;
  }
  bool send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // The next line without its '\n'; nothing on EOF, error or the deadline.
  std::optional<std::string> line(Clock::time_point deadline) {
    for (size_t nl; ; ) {
      if ((nl = buf_.find('\n')) != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      struct pollfd p = {fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
      char chunk[16384];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return {};
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

struct Verified {
  Endpoint server;
  int64_t checked = 0, current = 0, stale = 0, missing = 0, failed = 0;
};

enum class Seen { kCurrent, kStale, kMissing, kFailed };

// Asks `server` for each client in `batch` (pipelined) and classifies each answer.
std::vector<Seen> ask(LineClient* lc, const BenchReport& rep, const std::vector<int64_t>& batch,
                      Clock::time_point deadline) {
  std::vector<Seen> seen(batch.size(), Seen::kFailed);
  std::string req;
  for (int64_t c : batch) req += "WHATSAT " + bench::bench_client_id(rep.id_prefix, c) + " 10 1\n";
  if (!lc->send_all(req)) return seen;
  for (size_t i = 0; i < batch.size(); ++i) {
    std::optional<std::string> first = lc->line(deadline);
    if (!first) return seen;
    if (first->rfind("? ", 0) == 0) {
      seen[i] = Seen::kMissing;
      continue;
    }
    std::string want = bench::bench_time_text(rep.request_time_ns(rep.last_seq[size_t(batch[i])]));
    bool current = first->size() > want.size() &&
                   first->compare(first->size() - want.size(), want.size(), want) == 0;
    seen[i] = current ? Seen::kCurrent : Seen::kStale;
    for (std::optional<std::string> l; (l = lc->line(deadline)) && !l->empty();) {}
  }
  return seen;
}

// Re-asks the clients not yet current until all are or `timeout` passes: floods may
// still be on their way when the load stops.
Verified verify(const Endpoint& server, const BenchReport& rep, std::vector<int64_t> todo,
                std::chrono::milliseconds timeout) {
  Verified v{server};
  v.checked = static_cast<int64_t>(todo.size());
  auto deadline = Clock::now() + timeout;
  std::vector<Seen> last(todo.size(), Seen::kFailed);  // Of each client still in todo.
  while (!todo.empty()) {
    LineClient lc;
    if (!lc.connect(server)) break;
    std::vector<int64_t> again;
    std::vector<Seen> again_seen;
    for (size_t at = 0; at < todo.size(); at += 64) {
      size_t end = std::min(todo.size(), at + 64);
      std::vector<int64_t> batch(todo.begin() + static_cast<ptrdiff_t>(at),
                                 todo.begin() + static_cast<ptrdiff_t>(end));
      std::vector<Seen> seen = ask(&lc, rep, batch, deadline);
      for (size_t i = 0; i < batch.size(); ++i) {
        if (seen[i] == Seen::kCurrent) {
          ++v.current;
        } else {
          again.push_back(batch[i]);
          again_seen.push_back(seen[i]);
        }
      }
    }
    todo.swap(again);
    last.swap(again_seen);
    if (todo.empty() || Clock::now() + std::chrono::milliseconds(200) >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (Seen s : last) {
    v.stale += s == Seen::kStale, v.missing += s == Seen::kMissing, v.failed += s == Seen::kFailed;
  }
  return v;
}

std::vector<int64_t> sample_clients(const BenchReport& rep, int64_t max) {
  std::vector<int64_t> out;
  int64_t step = std::max<int64_t>(1, (rep.clients + max - 1) / max);
  for (int64_t c = 0; c < rep.clients; c += step) {
    if (rep.last_seq[static_cast<size_t>(c)] >= 0) out.push_back(c);
  }
  return out;
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
