#include "sim/sim_cli.h"

#include <chrono>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/determinism.h"
#include "node/hash.h"
#include "sim/replay.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/trace.h"

namespace herd {
namespace {

constexpr const char* kSimUsage =
    "usage: herd sim SCENARIO.json [--seed N] [--json] [--record TRACE] [--check-determinism]\n"
    "  Runs a scenario in virtual time and prints its report.\n"
    "  --seed N               the run's seed (0..18446744073709551615); wins over the scenario's\n"
    "  --json                 print the report as one JSON object\n"
    "  --record TRACE         write every input to every node to TRACE (JSON lines) for `herd replay`\n"
    "  --check-determinism    run twice and compare every input and output; report the first difference\n"
    "  --sync MODE            anti-entropy: off, link-up or periodic (wins over the scenario's \"sync\")\n"
    "Exit status: 0 ok, 1 a check failed, 2 bad usage or scenario.\n";

constexpr const char* kReplayUsage =
    "usage: herd replay TRACE [--record OUT]\n"
    "  Feeds a trace's inputs to fresh nodes and checks every output.\n"
    "  --record OUT   write the replayed inputs as a trace to OUT (identical for a good trace)\n"
    "Exit status: 0 every output matched, 1 a divergence (the first is named), 2 bad usage or trace.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

// Takes "--flag VALUE" or "--flag=VALUE"; *i moves past what it used.
std::optional<std::string> flag_value(int argc, char** argv, int* i, std::string_view flag, std::string* error) {
  std::string_view arg = argv[*i];
  if (arg.size() > flag.size() && arg.starts_with(flag) && arg[flag.size()] == '=') {
    return std::string(arg.substr(flag.size() + 1));
  }
  if (*i + 1 >= argc) {
    *error = std::string(flag) + ": expected a value";
    return std::nullopt;
  }
  return std::string(argv[++*i]);
}

bool is_flag(std::string_view arg, std::string_view flag) {
  return arg == flag || (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=');
}

struct SimFlags {
  std::string scenario_path;
  std::optional<uint64_t> seed;
  bool json = false;
  std::string record;
  bool check_determinism = false;
  std::optional<SyncMode> sync;
};

std::string replay_hint(const SimFlags& flags, uint64_t seed) {
  return "herd sim " + flags.scenario_path + " --seed " + std::to_string(seed);
}

int determinism(const Scenario& scenario, const SimFlags& flags, uint64_t seed) {
  const DeterminismResult r = check_determinism(scenario, seed);
  if (r.same) {
    std::printf("herd sim: deterministic: two runs of %s with seed %llu gave the same %llu inputs and outputs, "
                "digest %s\n",
                flags.scenario_path.c_str(), static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(r.inputs), hex16(r.digest).c_str());
    return 0;
  }
  std::fprintf(stderr, "herd sim: NOT deterministic: %s\n", replay_hint(flags, seed).c_str());
  if (r.first_difference) {
    std::fprintf(stderr, "  first difference at event %llu\n",
                 static_cast<unsigned long long>(*r.first_difference));
  } else {
    std::fprintf(stderr, "  the same events, but different reports\n");
  }
  std::fprintf(stderr, "  run 1: %s\n  run 2: %s\n", r.run1.empty() ? "(no such event)" : r.run1.c_str(),
               r.run2.empty() ? "(no such event)" : r.run2.c_str());
  return 1;
}

int run_sim(const Scenario& scenario, const SimFlags& flags, uint64_t seed) {
  Simulator sim(scenario, seed);
  std::unique_ptr<TraceWriter> writer;
  if (!flags.record.empty()) {
    auto w = TraceWriter::open(flags.record, sim.trace_header());
    if (!w.ok()) return usage_error(w.error());
    writer = std::move(w.value());
    sim.add_observer(writer.get());
  }
  // The only clock read: around the event loop, for the report's wall_ms and rate.
  const auto start = std::chrono::steady_clock::now();
  sim.run_events();
  const auto end = std::chrono::steady_clock::now();
  Report report = sim.report();
  report.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
  if (writer) {
    const std::string error = writer->close(sim.nodes());
    if (!error.empty()) return usage_error(error);
  }
  const std::string out = flags.json ? report_json(report) + "\n" : report_text(report);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  if (report.checks.empty()) return 0;
  std::fputs(failure_text(report, flags.scenario_path).c_str(), stderr);
  return 1;
}

}  // namespace

int sim_command(int argc, char** argv) {
  SimFlags flags;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string error;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kSimUsage, stdout);
      return 0;
    } else if (arg == "--json") {
      flags.json = true;
    } else if (arg == "--check-determinism") {
      flags.check_determinism = true;
    } else if (is_flag(arg, "--seed")) {
      std::optional<std::string> v = flag_value(argc, argv, &i, "--seed", &error);
      if (!v) return usage_error(error);
      uint64_t seed = 0;
      const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), seed);
      if (v->empty() || ec != std::errc() || end != v->data() + v->size()) {
        return usage_error("--seed: expected an integer in 0..18446744073709551615, got '" + *v + "'");
      }
      flags.seed = seed;
    } else if (is_flag(arg, "--record")) {
      std::optional<std::string> v = flag_value(argc, argv, &i, "--record", &error);
      if (!v) return usage_error(error);
      if (v->empty()) return usage_error("--record: expected a file name");
      flags.record = *v;
    } else if (is_flag(arg, "--sync")) {
      std::optional<std::string> v = flag_value(argc, argv, &i, "--sync", &error);
      if (!v) return usage_error(error);
      flags.sync = parse_sync_mode(*v);
      if (!flags.sync) return usage_error("--sync: expected off, link-up or periodic, got '" + *v + "'");
    } else if (arg.starts_with("-") && arg != "-") {
      return usage_error("sim: unknown option '" + std::string(arg) + "' (see herd sim --help)");
    } else if (flags.scenario_path.empty()) {
      flags.scenario_path = std::string(arg);
    } else {
      return usage_error("sim: one scenario only (got '" + flags.scenario_path + "' and '" + std::string(arg) + "')");
    }
  }
  if (flags.scenario_path.empty()) {
    std::fputs(kSimUsage, stderr);
    return 2;
  }
  Result<Scenario> scenario = load_scenario(flags.scenario_path);
  if (!scenario.ok()) return usage_error(scenario.error());
  if (flags.sync) scenario.value().sync.mode = *flags.sync;
  const uint64_t seed = flags.seed.value_or(scenario.value().seed.value_or(1));
  if (flags.check_determinism) return determinism(scenario.value(), flags, seed);
  return run_sim(scenario.value(), flags, seed);
}

int replay_command(int argc, char** argv) {
  std::string trace, record;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string error;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kReplayUsage, stdout);
      return 0;
    } else if (is_flag(arg, "--record")) {
      std::optional<std::string> v = flag_value(argc, argv, &i, "--record", &error);
      if (!v) return usage_error(error);
      if (v->empty()) return usage_error("--record: expected a file name");
      record = *v;
    } else if (arg.starts_with("-") && arg != "-") {
      return usage_error("replay: unknown option '" + std::string(arg) + "' (see herd replay --help)");
    } else if (trace.empty()) {
      trace = std::string(arg);
    } else {
      return usage_error("replay: one trace only");
    }
  }
  if (trace.empty()) {
    std::fputs(kReplayUsage, stderr);
    return 2;
  }
  const ReplayResult r = replay_file(trace, record);
  switch (r.status) {
    case ReplayResult::Status::kMatch:
      std::printf("herd replay: %s: %llu inputs replayed, every output matches%s\n", trace.c_str(),
                  static_cast<unsigned long long>(r.inputs),
                  r.ended ? ", final state digest matches" : " (no end line: the recording was cut short)");
      return 0;
    case ReplayResult::Status::kDiverged:
      std::fprintf(stderr, "herd replay: %s\n", r.message.c_str());
      return 1;
    case ReplayResult::Status::kBadTrace:
      break;
  }
  return usage_error(r.message);
}

}  // namespace herd
