#include "sim/cli/bench_options.h"

#include <charconv>
#include <climits>
#include <functional>
#include <string_view>

#include "sim/cli/cli.h"

namespace herd {

const char kBenchHelp[] =
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
    "                           (all servers at once); exit 1 unless every one is current\n"
    "  --verify-max N           clients checked per server, evenly spaced (1000)\n"
    "  --verify-timeout-s X     for late floods to arrive (5); a server's reply may take\n"
    "                           longer (its Places request), and is waited for\n"
    "  --cpu-pids PID,...       report these processes' CPU time per reply (measured window)\n"
    "  --json                   one JSON object instead of text\n"
    "exit status: 0 ran (and verified, with --verify), 1 could not connect or a record\n"
    "was not current, 2 bad usage\n";

namespace {

using bench::Endpoint;

// Sets one option from its value text; the error names the flag and what was expected.
using Setter = std::function<Result<bool>(std::string_view flag, std::string_view value,
                                          BenchOptions* o)>;

Result<bool> bad(std::string_view flag, std::string_view expected, std::string_view value) {
  return Error{std::string(flag) + ": expected " + std::string(expected) + ", got \"" +
               std::string(value) + "\""};
}

// An integer option in [min, max], stored through `field`.
template <class T>
Setter integer(int64_t min, int64_t max, std::function<T*(BenchOptions*)> field) {
  return [=](std::string_view flag, std::string_view value, BenchOptions* o) -> Result<bool> {
    Result<int64_t> n = parse_int_option(flag, value, min, max);
    if (!n.ok()) return Error{n.error()};
    *field(o) = static_cast<T>(n.value());
    return true;
  };
}

// Seconds with an optional fraction, 0..3600, stored as milliseconds.
Setter seconds(std::function<int64_t*(BenchOptions*)> field) {
  return [=](std::string_view flag, std::string_view value, BenchOptions* o) -> Result<bool> {
    double s = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || !(s >= 0) ||
        s > 3600) {
      return bad(flag, "seconds in 0..3600", value);
    }
    *field(o) = static_cast<int64_t>(s * 1000 + 0.5);
    return true;
  };
}

Setter endpoint(std::function<Endpoint*(BenchOptions*)> field) {
  return [=](std::string_view flag, std::string_view value, BenchOptions* o) -> Result<bool> {
    if (!bench::parse_endpoint(value, field(o))) {
      return bad(flag, "HOST:PORT or PORT (an IPv4 address, a port in 1..65535)", value);
    }
    return true;
  };
}

// "A,B,C": each item parsed by `one`; false when any is malformed or the list is empty.
bool each_item(std::string_view text, const std::function<bool(std::string_view)>& one) {
  if (text.empty()) return false;
  for (;;) {
    size_t comma = text.find(',');
    if (!one(text.substr(0, comma))) return false;
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

Result<bool> set_verify(std::string_view flag, std::string_view value, BenchOptions* o) {
  std::vector<Endpoint> list;
  bool ok = each_item(value, [&](std::string_view item) {
    Endpoint e;
    return bench::parse_endpoint(item, &e) && (list.push_back(e), true);
  });
  if (!ok) return bad(flag, "HOST:PORT,... (IPv4 addresses, ports in 1..65535)", value);
  o->verify = std::move(list);
  return true;
}

Result<bool> set_cpu_pids(std::string_view flag, std::string_view value, BenchOptions* o) {
  std::vector<int> pids;
  bool ok = each_item(value, [&](std::string_view item) {
    Result<int64_t> pid = parse_int_option(flag, item, 1, INT_MAX);
    return pid.ok() && (pids.push_back(static_cast<int>(pid.value())), true);
  });
  if (!ok) return bad(flag, "PID,... (integers in 1..2147483647)", value);
  o->config.cpu_pids = std::move(pids);
  return true;
}

struct Flag {
  std::string_view name;
  Setter set;
};

const std::vector<Flag>& flags() {
  using C = bench::BenchConfig;
  auto cfg = [](BenchOptions* o) -> C* { return &o->config; };
  static const std::vector<Flag> kFlags = {
      {"--target", endpoint([=](BenchOptions* o) { return &cfg(o)->target; })},
      {"--visibility", endpoint([=](BenchOptions* o) { return &cfg(o)->visibility; })},
      {"--verify", set_verify},
      {"--cpu-pids", set_cpu_pids},
      {"--duration-s", seconds([=](BenchOptions* o) { return &cfg(o)->duration_ms; })},
      {"--warmup-s", seconds([=](BenchOptions* o) { return &cfg(o)->warmup_ms; })},
      {"--verify-timeout-s", seconds([](BenchOptions* o) { return &o->verify_timeout_ms; })},
      {"--connections",
       integer<int>(0, 100'000, [=](BenchOptions* o) { return &cfg(o)->connections; })},
      {"--pipeline", integer<int>(1, 100'000, [=](BenchOptions* o) { return &cfg(o)->pipeline; })},
      {"--rate", integer<int64_t>(0, 100'000'000, [=](BenchOptions* o) { return &cfg(o)->rate; })},
      {"--clients",
       integer<int64_t>(1, 100'000'000, [=](BenchOptions* o) { return &cfg(o)->clients; })},
      {"--count",
       integer<int64_t>(0, int64_t{1} << 40, [=](BenchOptions* o) { return &cfg(o)->count; })},
      {"--hold", integer<int>(0, 1'000'000, [=](BenchOptions* o) { return &cfg(o)->hold; })},
      {"--visibility-samples",
       integer<int>(0, 1'000'000, [=](BenchOptions* o) { return &cfg(o)->visibility_samples; })},
      {"--visibility-interval-ms",
       integer<int64_t>(1, 60'000,
                        [=](BenchOptions* o) { return &cfg(o)->visibility_interval_ms; })},
      {"--verify-max",
       integer<int64_t>(1, 100'000'000, [](BenchOptions* o) { return &o->verify_max; })},
  };
  return kFlags;
}

const Flag* find_flag(std::string_view name) {
  for (const Flag& f : flags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

Result<BenchOptions> parse_bench_options(const std::vector<std::string>& args) {
  BenchOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      continue;
    }
    if (arg == "--json") {
      o.json = true;
      continue;
    }
    if (!arg.starts_with("-")) {
      return Error{"unexpected argument '" + std::string(arg) + "' (see herd bench --help)"};
    }
    size_t eq = arg.find('=');
    std::string_view name = arg.substr(0, eq);
    if (name == "--json" || name == "--help") {
      return Error{std::string(name) + ": takes no value, got \"" +
                   std::string(arg.substr(eq + 1)) + "\""};
    }
    const Flag* flag = find_flag(name);
    if (flag == nullptr) {
      return Error{"unknown option '" + std::string(name) + "' (see herd bench --help)"};
    }
    std::string_view value;
    if (eq != std::string_view::npos) value = arg.substr(eq + 1);
    else if (i + 1 < args.size()) value = args[++i];
    else return Error{std::string(name) + ": missing value"};
    Result<bool> set = flag->set(name, value, &o);
    if (!set.ok()) return Error{set.error()};
  }
  if (!o.help && o.config.target.port == 0) {
    return Error{"--target HOST:PORT is required (see herd bench --help)"};
  }
  return o;
}

}  // namespace herd
