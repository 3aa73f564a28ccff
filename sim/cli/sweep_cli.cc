// `herd sweep` (sim/cli/sweep_cli.h). The parent parses the scenario once, then
// forks one worker per seed (at most --jobs at once): the worker runs the seed in
// virtual time and writes its result to a pipe. A spot-checked seed also runs in a
// fresh process (`/proc/self/exe sim SCENARIO --seed N --json`: its own address
// layout, its own reading of the file) and the two digests must agree. Results are
// printed in seed order; at most kWindow seeds past the oldest unprinted one are
// started, so the results waiting to be printed are bounded.
#include "sim/cli/sweep_cli.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "node/hash.h"
#include "node/json_bytes.h"
#include "node/rng.h"
#include "sim/cli/cli.h"
#include "sim/cli/scenario_file.h"
#include "sim/cli/sweep_lines.h"
#include "sim/report.h"
#include "sim/simulator.h"

extern char** environ;

namespace herd {
namespace {

constexpr const char* kSweepUsage =
    "usage: herd sweep SCENARIO.json --seeds A-B [--jobs N] [--shard I/N] [--spot-check K]\n"
    "                  [--sync MODE] [--json] [--output FILE]\n"
    "       herd sweep --merge FILE... [--json] [--output FILE]\n"
    "  Runs the scenario once per seed of A..B in worker processes; a swarm scenario draws\n"
    "  its faults and workload per seed. Prints one result per seed, in seed order, then a summary.\n"
    "  --seeds A-B       the seeds (or one seed N); at most 1000000 of them\n"
    "  --jobs N          worker processes at once, 1..256 (default: the machine's cores)\n"
    "  --shard I/N       only the seeds with seed % N == I (0 <= I < N), to split a range\n"
    "  --spot-check K    seeds with mix64(seed) % K == 0 run again in a fresh `herd sim`; their\n"
    "                    digests must agree (default 8; 1: every seed; 0: none)\n"
    "  --sync MODE       off, link-up or periodic: wins over the scenario's (and goes in each rerun)\n"
    "  --json            one JSON line per seed and a summary line\n"
    "  --output FILE     write the results to FILE, not stdout\n"
    "  --merge FILE...   merge the --json outputs of every shard of one sweep into what the\n"
    "                    unsharded sweep prints (wall_ms: the shards' sum; seeds/s from it)\n"
    "Exit status: 0 every seed passed, 1 a seed failed, 2 bad usage, scenario or input.\n";

constexpr size_t kPayloadMax = 16u << 20;  // A worker's answer (a report is far smaller).

int usage_error(const std::string& message) {
  std::fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

Result<uint64_t> parse_u64(std::string_view flag, std::string_view text, const std::string& expected) {
  uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return Error{std::string(flag) + ": expected " + expected + ", got \"" + std::string(text) + "\""};
  }
  return v;
}

// One seed's result as the parent assembles it.
struct SeedResult {
  uint64_t seed = 0;
  bool spot = false;             // A second run was asked for.
  bool have_main = false, have_spot = false;
  std::string error;             // A worker failed: why.
  bool pass = false;
  std::string digest, wall_ms, swarm;
  std::vector<Check> checks;
  std::string spot_digest, spot_error;
  bool done() const { return have_main && (!spot || have_spot); }
};

struct Job {
  size_t index = 0;  // Into the seeds.
  bool spot = false;
  pid_t pid = -1;
  int fd = -1;
  std::string buf;
  bool overflow = false;
};

// The worker: runs `seed` and writes "OK\n" pass, digest, wall ms, checks (one per
// line, name figure bound pass), "--", swarm; or "ERROR\n" and why.
std::string worker_payload(const std::string& text, const std::string& path, const Scenario& parsed, uint64_t seed,
                           const std::optional<SyncMode>& sync) {
  Result<SeededScenario> seeded = seeded_scenario(text, path, parsed, seed);
  if (!seeded.ok()) return "ERROR\n" + seeded.error();
  Scenario& scenario = seeded.value().scenario;
  if (sync) scenario.sync.mode = *sync;
  Simulator sim(scenario, seed);
  const auto start = std::chrono::steady_clock::now();
  sim.run_events();
  const auto end = std::chrono::steady_clock::now();
  const Report report = sim.report();
  std::string o = "OK\n" + std::string(report.passed() ? "1" : "0") + "\n" + hex16(report.digest) + "\n" +
                  ms3(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count()) + "\n";
  for (const Check& c : report.checks) {
    o += c.name + " " + c.figure + " " + c.bound + " " + (c.pass ? "1" : "0") + "\n";
  }
  return o + "--\n" + seeded.value().swarm_json + "\n";
}

void parse_payload(const std::string& payload, SeedResult* r) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < payload.size()) {
    const size_t nl = payload.find('\n', at);
    const size_t end = nl == std::string::npos ? payload.size() : nl;
    lines.push_back(payload.substr(at, end - at));
    at = end + 1;
  }
  if (lines.size() >= 2 && lines[0] == "ERROR") {
    r->error = lines[1];
    return;
  }
  if (lines.size() < 5 || lines[0] != "OK") {
    r->error = "the worker's answer is cut short";
    return;
  }
  r->pass = lines[1] == "1";
  r->digest = lines[2];
  r->wall_ms = lines[3];
  size_t i = 4;
  for (; i < lines.size() && lines[i] != "--"; ++i) {
    Check c;
    const std::string& l = lines[i];
    const size_t a = l.find(' '), b = l.find(' ', a + 1), d = l.find(' ', b + 1);
    if (a == std::string::npos || b == std::string::npos || d == std::string::npos) {
      r->error = "the worker's answer is garbled";
      return;
    }
    c.name = l.substr(0, a);
    c.figure = l.substr(a + 1, b - a - 1);
    c.bound = l.substr(b + 1, d - b - 1);
    c.pass = l.substr(d + 1) == "1";
    r->checks.push_back(c);
  }
  if (i + 1 < lines.size()) r->swarm = lines[i + 1];
}

// The digest of a `herd sim --json` report, or why there is none.
std::string report_digest(const std::string& text, std::string* error) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("digest") || !d["digest"].IsString()) {
    *error = "the second run printed no report";
    return "";
  }
  return d["digest"].GetString();
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended oddly";
}

class Sweep {
 public:
  Sweep(const SweepFlags& flags, std::string text, Scenario parsed, std::vector<uint64_t> seeds, FILE* out)
      : flags_(flags), text_(std::move(text)), parsed_(std::move(parsed)), seeds_(std::move(seeds)), out_(out) {
    jobs_ = flags.jobs;
    if (jobs_ <= 0) {
      const long cores = sysconf(_SC_NPROCESSORS_ONLN);
      jobs_ = static_cast<int>(std::clamp<long>(cores, 1, kSweepJobsMax));
    }
    window_ = static_cast<size_t>(jobs_) * 4 + 16;
    identity_.path = flags.scenario_path;
    identity_.name = parsed_.name;
    identity_.scenario_hash = scenario_text_hash(text_);
    identity_.sync = flags.sync ? sync_mode_name(*flags.sync) : "";
    identity_.spot_every = flags.spot_every;
    identity_.swarm = parsed_.swarm.has_value();
    identity_.seed_lo = flags.seed_lo;
    identity_.seed_hi = flags.seed_hi;
    identity_.shard_index = flags.shard_index;
    identity_.shard_count = flags.shard_count;
    results_.resize(seeds_.size());
    for (size_t i = 0; i < seeds_.size(); ++i) {
      results_[i].seed = seeds_[i];
      results_[i].spot = flags.spot_every > 0 && mix64(seeds_[i]) % flags.spot_every == 0;
    }
  }

  int run() {
    const auto start = std::chrono::steady_clock::now();
    if (!flags_.json) emit(sweep_header_text(identity_, seeds_.size(), std::to_string(jobs_) + " jobs"));
    size_t next_job = 0;  // Jobs are (seed index, main) then (seed index, spot).
    bool next_spot = false;
    while (emitted_ < seeds_.size()) {
      while (running_.size() < static_cast<size_t>(jobs_) && next_job < seeds_.size() &&
             next_job < emitted_ + window_) {
        start_job(next_job, next_spot);
        if (!next_spot && results_[next_job].spot) {
          next_spot = true;
        } else {
          next_spot = false;
          ++next_job;
        }
      }
      if (!running_.empty()) wait_some();
      while (emitted_ < seeds_.size() && results_[emitted_].done()) print(results_[emitted_++]);
      if (write_failed_) return 1;
    }
    const int64_t wall_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    summary(wall_ns);
    if (write_failed_) return 1;
    return failing_.empty() ? 0 : 1;
  }

 private:
  std::string rerun(uint64_t seed) const {
    std::string r = "herd sim " + flags_.scenario_path + " --seed " + std::to_string(seed);
    if (flags_.sync) r += std::string(" --sync ") + sync_mode_name(*flags_.sync);
    return r;
  }

  void emit(const std::string& text) {
    if (std::fputs(text.c_str(), out_) < 0 || std::fflush(out_) != 0) {
      if (!write_failed_) std::fprintf(stderr, "herd: sweep: cannot write the results: %s\n", std::strerror(errno));
      write_failed_ = true;
    }
  }

  void start_job(size_t index, bool spot) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      fail_job(index, spot, std::string("pipe: ") + std::strerror(errno));
      return;
    }
    Job job;
    job.index = index;
    job.spot = spot;
    job.fd = fds[0];
    const uint64_t seed = seeds_[index];
    if (!spot) {
      std::fflush(nullptr);
      const pid_t pid = fork();
      if (pid == 0) {
        ::close(fds[0]);
        const std::string payload = worker_payload(text_, flags_.scenario_path, parsed_, seed, flags_.sync);
        size_t off = 0;
        while (off < payload.size()) {
          const ssize_t n = ::write(fds[1], payload.data() + off, payload.size() - off);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) _exit(3);
          off += static_cast<size_t>(n);
        }
        _exit(0);
      }
      job.pid = pid;
    } else {
      std::vector<std::string> args = {"herd", "sim", flags_.scenario_path, "--seed", std::to_string(seed),
                                       "--json", "--quiet"};
      if (flags_.sync) args.insert(args.end(), {"--sync", sync_mode_name(*flags_.sync)});
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
      pid_t pid = -1;
      const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
      posix_spawn_file_actions_destroy(&actions);
      job.pid = rc == 0 ? pid : -1;
      if (rc != 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        fail_job(index, spot, std::string("cannot start herd sim: ") + std::strerror(rc));
        return;
      }
    }
    ::close(fds[1]);
    if (job.pid < 0) {
      ::close(job.fd);
      fail_job(index, spot, std::string("fork: ") + std::strerror(errno));
      return;
    }
    running_.push_back(std::move(job));
  }

  void fail_job(size_t index, bool spot, const std::string& why) {
    SeedResult& r = results_[index];
    if (spot) {
      r.have_spot = true;
      r.spot_error = why;
    } else {
      r.have_main = true;
      r.error = why;
    }
  }

  // Reads whatever the running workers wrote; finishes those at end of file.
  void wait_some() {
    std::vector<pollfd> fds;
    for (const Job& j : running_) fds.push_back({j.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) return;  // EINTR: look again.
    std::vector<Job> still;
    for (size_t i = 0; i < running_.size(); ++i) {
      Job& j = running_[i];
      if (fds[i].revents == 0) {
        still.push_back(std::move(j));
        continue;
      }
      char buf[65536];
      const ssize_t n = ::read(j.fd, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        still.push_back(std::move(j));
        continue;
      }
      if (n > 0) {
        if (j.buf.size() + static_cast<size_t>(n) > kPayloadMax) {
          j.overflow = true;
          ::kill(j.pid, SIGKILL);
        } else {
          j.buf.append(buf, static_cast<size_t>(n));
        }
        still.push_back(std::move(j));
        continue;
      }
      finish(j);
    }
    running_ = std::move(still);
  }

  void finish(Job& j) {
    ::close(j.fd);
    int status = 0;
    while (::waitpid(j.pid, &status, 0) < 0 && errno == EINTR) {
    }
    SeedResult& r = results_[j.index];
    if (j.spot) {
      r.have_spot = true;
      if (j.overflow) {
        r.spot_error = "the second run printed more than 16 MiB";
      } else if (!(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1))) {
        r.spot_error = "the second run (herd sim) " + describe_status(status);
      } else {
        r.spot_digest = report_digest(j.buf, &r.spot_error);
      }
      return;
    }
    r.have_main = true;
    if (j.overflow) {
      r.error = "the worker wrote more than 16 MiB";
    } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      r.error = "the worker " + describe_status(status);
    } else {
      parse_payload(j.buf, &r);
    }
  }

  void print(SeedResult& r) {
    std::vector<Check> checks = r.checks;
    bool pass = r.pass && r.error.empty();
    if (!r.error.empty()) checks.push_back({"worker", "1", "0", false, r.error});
    if (r.spot && r.error.empty()) {
      const bool same = r.spot_error.empty() && r.spot_digest == r.digest;
      checks.push_back({"deterministic", same ? "0" : "1", "0", same, ""});
      if (!same) {
        pass = false;
        ++spot_mismatches_;
        if (r.error.empty()) {
          r.error = r.spot_error.empty() ? "a second run gave digest " + r.spot_digest + ", not " + r.digest
                                         : r.spot_error;
        }
      }
      ++spot_checked_;
    }
    std::vector<std::string> failed;
    for (const Check& c : checks) {
      if (!c.pass) failed.push_back(c.name);
    }
    if (!pass) failing_.push_back({r.seed, rerun(r.seed)});
    SweepSeedLine line;
    line.seed = r.seed;
    line.pass = pass;
    line.spot = r.spot;
    line.digest = r.digest;
    line.wall_ms = r.wall_ms;
    line.checks = std::move(checks);
    line.failed = std::move(failed);
    line.rerun = rerun(r.seed);
    line.swarm = r.swarm;
    line.error = r.error;
    emit(flags_.json ? sweep_seed_json(line) : sweep_seed_text(line));
    r = SeedResult{};  // Printed: its memory goes.
  }

  void summary(int64_t wall_ns) {
    SweepTotals totals;
    totals.seeds = seeds_.size();
    totals.failing = failing_;
    totals.spot_checked = spot_checked_;
    totals.spot_disagreed = spot_mismatches_;
    totals.wall_ns = wall_ns;
    emit(flags_.json ? sweep_summary_json(identity_, totals)
                     : sweep_summary_text(totals, std::to_string(jobs_) + " jobs"));
  }

  const SweepFlags& flags_;
  std::string text_;
  Scenario parsed_;
  std::vector<uint64_t> seeds_;
  FILE* out_;
  int jobs_ = 1;
  size_t window_ = 16;
  std::vector<SeedResult> results_;
  std::vector<Job> running_;
  size_t emitted_ = 0;
  std::vector<std::pair<uint64_t, std::string>> failing_;  // seed, rerun.
  SweepIdentity identity_;
  uint64_t spot_checked_ = 0, spot_mismatches_ = 0;
  bool write_failed_ = false;
};

}  // namespace

std::vector<uint64_t> shard_seeds(uint64_t lo, uint64_t hi, uint64_t index, uint64_t count) {
  std::vector<uint64_t> out;
  for (uint64_t s = lo;; ++s) {
    if (s % count == index) out.push_back(s);
    if (s == hi) break;
  }
  return out;
}

Result<SweepFlags> parse_sweep_flags(const std::vector<std::string>& args) {
  SweepFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else if (arg == "--json") {
      flags.json = true;
    } else if (is_option(arg, "--seeds")) {
      if (flags.run_option.empty()) flags.run_option = "--seeds";
      Result<std::string> v = option_value(args, &i, "--seeds");
      if (!v.ok()) return Error{v.error()};
      const std::string& text = v.value();
      const size_t dash = text.find('-');
      const std::string expected = "A-B (seeds 0..18446744073709551615, A <= B) or one seed";
      Result<uint64_t> lo = parse_u64("--seeds", text.substr(0, dash), expected);
      if (!lo.ok()) return Error{"--seeds: expected " + expected + ", got \"" + text + "\""};
      Result<uint64_t> hi = dash == std::string::npos ? lo : parse_u64("--seeds", text.substr(dash + 1), expected);
      if (!hi.ok() || hi.value() < lo.value()) return Error{"--seeds: expected " + expected + ", got \"" + text + "\""};
      if (hi.value() - lo.value() >= kSweepSeedsMax) {
        return Error{"--seeds: " + text + " is " + (hi.value() - lo.value() == UINT64_MAX ? std::string("2^64")
                                                   : std::to_string(hi.value() - lo.value() + 1)) +
                     " seeds; at most " + std::to_string(kSweepSeedsMax) + " in one sweep (split it with --shard or ranges)"};
      }
      flags.seed_lo = lo.value();
      flags.seed_hi = hi.value();
      flags.have_seeds = true;
    } else if (is_option(arg, "--jobs")) {
      if (flags.run_option.empty()) flags.run_option = "--jobs";
      Result<std::string> v = option_value(args, &i, "--jobs");
      if (!v.ok()) return Error{v.error()};
      Result<int64_t> n = parse_int_option("--jobs", v.value(), 1, kSweepJobsMax);
      if (!n.ok()) return Error{n.error()};
      flags.jobs = static_cast<int>(n.value());
    } else if (is_option(arg, "--spot-check")) {
      if (flags.run_option.empty()) flags.run_option = "--spot-check";
      Result<std::string> v = option_value(args, &i, "--spot-check");
      if (!v.ok()) return Error{v.error()};
      Result<int64_t> n = parse_int_option("--spot-check", v.value(), 0, 1'000'000);
      if (!n.ok()) return Error{n.error()};
      flags.spot_every = static_cast<uint64_t>(n.value());
    } else if (is_option(arg, "--shard")) {
      if (flags.run_option.empty()) flags.run_option = "--shard";
      Result<std::string> v = option_value(args, &i, "--shard");
      if (!v.ok()) return Error{v.error()};
      const std::string& text = v.value();
      const size_t slash = text.find('/');
      const std::string expected = "I/N with 0 <= I < N <= 1000000";
      const std::string bad = "--shard: expected " + expected + ", got \"" + text + "\"";
      if (slash == std::string::npos) return Error{bad};
      Result<uint64_t> index = parse_u64("--shard", text.substr(0, slash), expected);
      Result<uint64_t> count = parse_u64("--shard", text.substr(slash + 1), expected);
      if (!index.ok() || !count.ok() || count.value() == 0 || count.value() > 1'000'000 ||
          index.value() >= count.value()) {
        return Error{bad};
      }
      flags.shard_index = index.value();
      flags.shard_count = count.value();
    } else if (is_option(arg, "--sync")) {
      if (flags.run_option.empty()) flags.run_option = "--sync";
      Result<std::string> v = option_value(args, &i, "--sync");
      if (!v.ok()) return Error{v.error()};
      flags.sync = parse_sync_mode(v.value());
      if (!flags.sync) return Error{"--sync: expected off, link-up or periodic, got \"" + v.value() + "\""};
    } else if (is_option(arg, "--output")) {
      Result<std::string> v = option_value(args, &i, "--output");
      if (!v.ok()) return Error{v.error()};
      if (v.value().empty()) return Error{"--output: expected a file name"};
      flags.output = v.value();
    } else if (arg == "--merge") {
      flags.merge = true;
    } else if (is_option_word(arg)) {
      return Error{"sweep: unknown option '" + arg + "' (see herd sweep --help)"};
    } else if (flags.merge) {
      flags.merge_files.push_back(arg);
    } else if (flags.scenario_path.empty()) {
      flags.scenario_path = arg;
    } else {
      return Error{"sweep: one scenario only (got '" + flags.scenario_path + "' and '" + arg + "')"};
    }
  }
  if (flags.help) return flags;
  if (flags.merge) {
    if (!flags.scenario_path.empty()) flags.merge_files.insert(flags.merge_files.begin(), flags.scenario_path);
    flags.scenario_path.clear();
    if (!flags.run_option.empty()) {
      return Error{"sweep --merge: " + flags.run_option + " is an option of a run, not of a merge (--merge FILE... [--json] [--output FILE])"};
    }
    if (flags.merge_files.empty()) return Error{"sweep --merge: expected the FILEs of the shards (see herd sweep --help)"};
    if (flags.merge_files.size() > kSweepMergeFilesMax) {
      return Error{"sweep --merge: " + std::to_string(flags.merge_files.size()) + " files; at most " +
                   std::to_string(kSweepMergeFilesMax) + " in one merge"};
    }
    return flags;
  }
  if (flags.scenario_path.empty()) return Error{"sweep: expected a SCENARIO file (see herd sweep --help)"};
  if (!flags.have_seeds) return Error{"sweep: --seeds A-B is required (see herd sweep --help)"};
  return flags;
}

int sweep_command(int argc, char** argv) {
  Result<SweepFlags> parsed = parse_sweep_flags(std::vector<std::string>(argv, argv + argc));
  if (!parsed.ok()) return usage_error(parsed.error());
  const SweepFlags& flags = parsed.value();
  if (flags.help) {
    std::fputs(kSweepUsage, stdout);
    return 0;
  }
  if (flags.merge) return sweep_merge(flags);
  Result<std::string> text = read_scenario_text(flags.scenario_path);
  if (!text.ok()) return usage_error(text.error());
  Result<Scenario> scenario = parse_scenario_file_text(text.value(), flags.scenario_path);
  if (!scenario.ok()) return usage_error(scenario.error());
  std::vector<uint64_t> seeds = shard_seeds(flags.seed_lo, flags.seed_hi, flags.shard_index, flags.shard_count);
  if (seeds.empty()) {
    return usage_error("--shard " + std::to_string(flags.shard_index) + "/" + std::to_string(flags.shard_count) +
                       ": no seed of " + std::to_string(flags.seed_lo) + "-" + std::to_string(flags.seed_hi) +
                       " is in this shard");
  }
  FILE* out = stdout;
  if (!flags.output.empty()) {
    out = std::fopen(flags.output.c_str(), "w");
    if (out == nullptr) return usage_error("--output " + flags.output + ": " + std::strerror(errno));
  }
  Sweep sweep(flags, std::move(text.value()), std::move(scenario.value()), std::move(seeds), out);
  const int status = sweep.run();
  if (out != stdout && std::fclose(out) != 0) {
    std::fprintf(stderr, "herd: --output %s: %s\n", flags.output.c_str(), std::strerror(errno));
    return 1;
  }
  return status;
}

}  // namespace herd
