#include "sim/cli/sim_cli.h"

#include "crypto/sodium_mac.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/cli/cli.h"
#include "sim/determinism.h"
#include "node/hash.h"
#include "node/json_bytes.h"
#include "sim/report.h"
#include "sim/cli/report_cli.h"
#include "sim/cli/scenario_file.h"
#include "sim/html_report.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/trace.h"

namespace herd {
namespace {

constexpr const char* kSimUsage =
    "usage: herd sim SCENARIO.json [--seed N] [--json] [--record TRACE] [--html FILE] [--check-determinism]\n"
    "                [--sync MODE] [--secret-file FILE] [--max-memory-mb N] [--output FILE]\n"
    "                [--progress | --quiet]\n"
    "  Runs a scenario in virtual time and prints its report.\n"
    "  --seed N               the run's seed (0..18446744073709551615); wins over the scenario's\n"
    "  --json                 print the report as one JSON object\n"
    "  --record TRACE         write every input to every node to TRACE (JSON lines) for `herd replay`\n"
    "  --html FILE            write the run's HTML report (space-time diagram, convergence, checks) to FILE\n"
    "  --check-determinism    run twice and compare every input and output; report the first difference\n"
    "  --sync MODE            anti-entropy: off, link-up or periodic (wins over the scenario's \"sync\")\n"
    "  --secret-file FILE     the herd secret: the simulated peers authenticate as a live herd's do\n"
    "  --max-memory-mb N      the run's memory budget in MiB (16..1048576; default 4096; wins over\n"
    "                         the scenario's max_memory_mb): a scenario planned past it is refused,\n"
    "                         a run that grows past it is cut short and fails\n"
    "  --output FILE          write the report (or the determinism result) to FILE, not stdout\n"
    "  --progress             show progress on stderr (default: when stderr is a terminal)\n"
    "  --quiet                no progress\n"
    "Exit status: 0 ok, 1 a check failed, 2 bad usage or scenario.\n";

// Events between two looks at the wall clock: cheap next to the events themselves.
constexpr uint64_t kProgressEvents = 16384;
constexpr auto kProgressInterval = std::chrono::milliseconds(500);

int usage_error(const std::string& message) {
  std::fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

// One line on stderr, rewritten in place: sim time, the run's end, events. The only
// wall clock of `herd sim` besides the report's wall_ms (the simulator has none).
class ProgressLine {
 public:
  ProgressLine(std::string name, int64_t end_ns, bool terminal)
      : name_(std::move(name)), end_ns_(end_ns), terminal_(terminal) {}

  void update(int64_t now_ns, uint64_t events) {
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now < next_) return;
    next_ = now + kProgressInterval;
    const int64_t percent = end_ns_ > 0 ? now_ns * 100 / end_ns_ : 100;
    std::string line = "herd sim: " + name_ + ": sim " + std::to_string(now_ns / 1'000'000) + " of " +
                       std::to_string(end_ns_ / 1'000'000) + " ms (" + std::to_string(percent) + "%), " +
                       std::to_string(events) + " events";
    const size_t width = line.size();
    if (line.size() < width_) line.append(width_ - line.size(), ' ');
    width_ = width;
    std::fprintf(stderr, "\r%s", line.c_str());
    std::fflush(stderr);
    shown_ = true;
  }

  // A terminal gets its line erased, so the report starts clean; a file keeps it.
  void finish() {
    if (!shown_) return;
    if (terminal_) std::fprintf(stderr, "\r%s\r", std::string(width_, ' ').c_str());
    else std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  std::string name_;
  int64_t end_ns_;
  bool terminal_;
  bool shown_ = false;
  size_t width_ = 0;
  std::chrono::steady_clock::time_point next_;
};

// Where the report goes: stdout, or --output FILE (opened before the run, so a bad
// path fails at once).
class ReportOut {
 public:
  Result<bool> open(const std::string& path) {
    path_ = path;
    if (path.empty()) return true;
    file_ = std::fopen(path.c_str(), "w");
    if (file_ == nullptr) return Error{"--output " + path + ": " + std::strerror(errno)};
    return true;
  }
  ~ReportOut() {
    if (file_ != nullptr) std::fclose(file_);
  }
  // Writes and closes; "" or the write error.
  std::string write(const std::string& text) {
    FILE* out = file_ != nullptr ? file_ : stdout;
    bool ok = std::fputs(text.c_str(), out) >= 0;
    ok = std::fflush(out) == 0 && ok;
    if (file_ != nullptr) {
      ok = std::fclose(file_) == 0 && ok;
      file_ = nullptr;
    }
    if (ok) return "";
    return (path_.empty() ? std::string("stdout") : "--output " + path_) + ": " + std::strerror(errno);
  }

 private:
  std::string path_;
  FILE* file_ = nullptr;
};

std::string replay_hint(const SimFlags& flags, uint64_t seed) {
  return "herd sim " + flags.scenario_path + " --seed " + std::to_string(seed);
}

std::string determinism_json(const DeterminismResult& r, const Scenario& scenario, uint64_t seed) {
  std::string o = "{\"deterministic\":" + std::string(r.same ? "true" : "false") + ",\"scenario\":";
  append_json_bytes(o, scenario.name);
  o += ",\"seed\":" + std::to_string(seed) + ",\"inputs\":" + std::to_string(r.inputs);
  o += ",\"digest\":\"" + hex16(r.digest) + "\"";
  if (!r.same) {
    o += ",\"first_difference\":" + (r.first_difference ? std::to_string(*r.first_difference) : "null");
    o += ",\"run1\":";
    append_json_bytes(o, r.run1);
    o += ",\"run2\":";
    append_json_bytes(o, r.run2);
  }
  return o + "}\n";
}

int determinism(const Scenario& scenario, const SimFlags& flags, uint64_t seed, ReportOut& out) {
  const DeterminismResult r = check_determinism(scenario, seed);
  std::string text;
  if (flags.json) {
    text = determinism_json(r, scenario, seed);
  } else if (r.same) {
    text = "herd sim: deterministic: two runs of " + flags.scenario_path + " with seed " + std::to_string(seed) +
           " gave the same " + std::to_string(r.inputs) + " inputs and outputs, digest " + hex16(r.digest) + "\n";
  }
  if (const std::string error = out.write(text); !error.empty()) {
    std::fprintf(stderr, "herd: %s\n", error.c_str());
    return 1;
  }
  if (r.same) return 0;
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

bool progress_wanted(const SimFlags& flags) {
  if (flags.progress == SimFlags::Progress::kAuto) return isatty(STDERR_FILENO) == 1;
  return flags.progress == SimFlags::Progress::kOn;
}

int run_sim(const Scenario& scenario, const SimFlags& flags, uint64_t seed, ReportOut& out,
            const std::string& swarm_json) {
  Simulator sim(scenario, seed);
  std::unique_ptr<TraceWriter> writer;
  if (!flags.record.empty()) {
    auto w = TraceWriter::open(flags.record, sim.trace_header());
    if (!w.ok()) return usage_error(w.error());
    writer = std::move(w.value());
    sim.add_observer(writer.get());
  }
  HtmlOut html_out;
  std::unique_ptr<HtmlRun> html;
  std::unique_ptr<HtmlCollector> collector;
  if (!flags.html.empty()) {
    if (Result<bool> opened = html_out.open(flags.html); !opened.ok()) return usage_error(opened.error());
    std::vector<std::string> servers;
    std::vector<std::pair<int, int>> links;
    for (const TopologyNode& n : scenario.topology.nodes) servers.push_back(n.name);
    for (const auto& [a, b] : scenario.topology.links) {
      links.push_back({scenario.topology.index_of(a), scenario.topology.index_of(b)});
    }
    html = std::make_unique<HtmlRun>(servers, links);
    collector = std::make_unique<HtmlCollector>(html.get());
    sim.add_observer(collector.get());
  }
  std::unique_ptr<ProgressLine> progress;
  if (progress_wanted(flags)) {
    progress = std::make_unique<ProgressLine>(scenario.name, scenario.duration_ns + scenario.drain_ns,
                                              isatty(STDERR_FILENO) == 1);
    sim.set_progress(kProgressEvents, [&](int64_t now_ns, uint64_t events) { progress->update(now_ns, events); });
  }
  // Around the event loop, for the report's wall_ms and rate.
  const auto start = std::chrono::steady_clock::now();
  sim.run_events();
  const auto end = std::chrono::steady_clock::now();
  if (progress) progress->finish();
  Report report = sim.report();
  report.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
  report.swarm_json = swarm_json;
  if (writer) {
    const std::string error = writer->close(sim.nodes());
    if (!error.empty()) {
      std::fprintf(stderr, "herd: --record: %s\n", error.c_str());
      return 1;
    }
  }
  if (html) {
    add_timeline(html.get(), scenario.plan, 0);
    HtmlMeta meta;
    meta.title = scenario.name + " (sim, seed " + std::to_string(seed) + ")";
    meta.source = "herd sim " + flags.scenario_path + " (virtual time)";
    meta.rerun = replay_hint(flags, seed);
    if (const std::string error = html_out.write(render_run_html(*html, report, meta)); !error.empty()) {
      std::fprintf(stderr, "herd: %s\n", error.c_str());
      return 1;
    }
  }
  if (const std::string error = out.write(flags.json ? report_json(report) + "\n" : report_text(report));
      !error.empty()) {
    std::fprintf(stderr, "herd: %s\n", error.c_str());
    return 1;
  }
  if (report.passed()) return 0;
  std::fputs(failure_text(report, flags.scenario_path).c_str(), stderr);
  return 1;
}

}  // namespace

Result<SimFlags> parse_sim_flags(const std::vector<std::string>& args) {
  SimFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else if (arg == "--json") {
      flags.json = true;
    } else if (arg == "--check-determinism") {
      flags.check_determinism = true;
    } else if (arg == "--progress" || arg == "--quiet") {
      const auto want = arg == "--progress" ? SimFlags::Progress::kOn : SimFlags::Progress::kOff;
      if (flags.progress != SimFlags::Progress::kAuto && flags.progress != want) {
        return Error{"--progress and --quiet: give one of them"};
      }
      flags.progress = want;
    } else if (is_option(arg, "--seed")) {
      Result<std::string> v = option_value(args, &i, "--seed");
      if (!v.ok()) return Error{v.error()};
      Result<uint64_t> seed = parse_seed_option("--seed", v.value());
      if (!seed.ok()) return Error{seed.error()};
      flags.seed = seed.value();
    } else if (is_option(arg, "--sync")) {
      Result<std::string> v = option_value(args, &i, "--sync");
      if (!v.ok()) return Error{v.error()};
      flags.sync = parse_sync_mode(v.value());
      if (!flags.sync) return Error{"--sync: expected off, link-up or periodic, got \"" + v.value() + "\""};
    } else if (is_option(arg, "--max-memory-mb")) {
      Result<std::string> v = option_value(args, &i, "--max-memory-mb");
      if (!v.ok()) return Error{v.error()};
      Result<int64_t> mb = parse_int_option("--max-memory-mb", v.value(), kMaxMemoryMbMin, kMaxMemoryMbMax);
      if (!mb.ok()) return Error{mb.error()};
      flags.max_memory_mb = static_cast<uint64_t>(mb.value());
    } else if (is_option(arg, "--record") || is_option(arg, "--output") || is_option(arg, "--secret-file") ||
               is_option(arg, "--html")) {
      const std::string flag = arg.substr(0, arg.find('='));
      Result<std::string> v = option_value(args, &i, flag);
      if (!v.ok()) return Error{v.error()};
      if (v.value().empty()) return Error{flag + ": expected a file name"};
      (flag == "--record"   ? flags.record
       : flag == "--output" ? flags.output
       : flag == "--html"   ? flags.html
                            : flags.secret_file) = v.value();
    } else if (is_option_word(arg)) {
      return Error{"sim: unknown option '" + arg + "' (see herd sim --help)"};
    } else if (flags.scenario_path.empty()) {
      flags.scenario_path = arg;
    } else {
      return Error{"sim: one scenario only (got '" + flags.scenario_path + "' and '" + arg + "')"};
    }
  }
  if (!flags.help && flags.scenario_path.empty()) {
    return Error{"sim: expected a SCENARIO file (see herd sim --help)"};
  }
  if (!flags.html.empty() && (flags.html == flags.output || flags.html == flags.record)) {
    return Error{"--html: the same file as --record or --output: " + flags.html};
  }
  if (!flags.record.empty() && flags.record == flags.output) {
    return Error{"--record and --output: the same file " + flags.record};
  }
  return flags;
}

int sim_command(int argc, char** argv) {
  Result<SimFlags> parsed = parse_sim_flags(std::vector<std::string>(argv, argv + argc));
  if (!parsed.ok()) return usage_error(parsed.error());
  const SimFlags& flags = parsed.value();
  if (flags.help) {
    std::fputs(kSimUsage, stdout);
    return 0;
  }
  Result<std::string> text = read_scenario_text(flags.scenario_path);
  if (!text.ok()) return usage_error(text.error());
  Result<SeededScenario> seeded = seeded_scenario(text.value(), flags.scenario_path, flags.seed, flags.max_memory_mb);
  if (!seeded.ok()) return usage_error(seeded.error());
  Result<Scenario> scenario = std::move(seeded.value().scenario);
  if (flags.sync) scenario.value().sync.mode = *flags.sync;
  if (!flags.secret_file.empty()) {
    Result<AuthKey> key = herd_key_from_file(flags.secret_file);
    if (!key.ok()) return usage_error("--secret-file: " + key.error());
    scenario.value().herd_key = key.value();
  }
  ReportOut out;
  if (Result<bool> opened = out.open(flags.output); !opened.ok()) return usage_error(opened.error());
  const uint64_t seed = seeded.value().seed;
  if (flags.check_determinism) return determinism(scenario.value(), flags, seed, out);
  return run_sim(scenario.value(), flags, seed, out, seeded.value().swarm_json);
}

}  // namespace herd
