// `herd shrink SCENARIO --seed N`: the seed's concrete scenario (a swarm scenario's
// draw, with the topology inline and the seed set) reduced by sim/shrink.h to a
// small standalone scenario that still fails the same check. A candidate counts as
// failing when two runs of it both fail that check with the same digest.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "node/check.h"
#include "node/hash.h"
#include "sim/cli/cli.h"
#include "sim/cli/scenario_file.h"
#include "sim/cli/sweep_cli.h"
#include "sim/report.h"
#include "sim/shrink.h"
#include "sim/simulator.h"
#include "sim/swarm.h"

namespace herd {
namespace {

constexpr const char* kShrinkUsage =
    "usage: herd shrink SCENARIO.json --seed N [--check NAME] [--max-steps N] [--sync MODE] [--output FILE]\n"
    "  Reduces a failing seed to a small standalone scenario that fails the same check every time:\n"
    "  delta debugging over the timeline's events, link overrides and bursts, then link faults,\n"
    "  clients, rates, duration and drain. Prints each kept step and what went.\n"
    "  --seed N          the failing seed (0..9223372036854775807; required)\n"
    "  --check NAME      the check that must keep failing (default: the run's first failing check)\n"
    "  --max-steps N     candidates to try at most, 1..100000 (default 2000)\n"
    "  --sync MODE       off, link-up or periodic: wins over the scenario's (and is written into the result)\n"
    "  --output FILE     write the shrunk scenario to FILE (default: stdout, with the steps on stderr)\n"
    "Exit status: 0 shrunk and written, 1 the seed passes (or the check does), 2 bad usage or scenario.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

struct ShrinkFlags {
  std::string scenario_path, check, output;
  std::optional<uint64_t> seed;
  std::optional<SyncMode> sync;
  uint64_t max_steps = 2000;
  bool help = false;
};

Result<ShrinkFlags> parse_shrink_flags(const std::vector<std::string>& args) {
  ShrinkFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else if (is_option(arg, "--seed")) {
      Result<std::string> v = option_value(args, &i, "--seed");
      if (!v.ok()) return Error{v.error()};
      Result<int64_t> seed = parse_int_option("--seed", v.value(), 0, INT64_MAX);
      if (!seed.ok()) return Error{seed.error()};
      flags.seed = static_cast<uint64_t>(seed.value());
    } else if (is_option(arg, "--max-steps")) {
      Result<std::string> v = option_value(args, &i, "--max-steps");
      if (!v.ok()) return Error{v.error()};
      Result<int64_t> n = parse_int_option("--max-steps", v.value(), 1, 100'000);
      if (!n.ok()) return Error{n.error()};
      flags.max_steps = static_cast<uint64_t>(n.value());
    } else if (is_option(arg, "--sync")) {
      Result<std::string> v = option_value(args, &i, "--sync");
      if (!v.ok()) return Error{v.error()};
      flags.sync = parse_sync_mode(v.value());
      if (!flags.sync) return Error{"--sync: expected off, link-up or periodic, got \"" + v.value() + "\""};
    } else if (is_option(arg, "--check") || is_option(arg, "--output")) {
      const std::string flag = arg.substr(0, arg.find('='));
      Result<std::string> v = option_value(args, &i, flag);
      if (!v.ok()) return Error{v.error()};
      if (v.value().empty()) return Error{flag + ": expected a value"};
      (flag == "--check" ? flags.check : flags.output) = v.value();
    } else if (is_option_word(arg)) {
      return Error{"shrink: unknown option '" + arg + "' (see herd shrink --help)"};
    } else if (flags.scenario_path.empty()) {
      flags.scenario_path = arg;
    } else {
      return Error{"shrink: one scenario only (got '" + flags.scenario_path + "' and '" + arg + "')"};
    }
  }
  if (flags.help) return flags;
  if (flags.scenario_path.empty()) return Error{"shrink: expected a SCENARIO file (see herd shrink --help)"};
  if (!flags.seed) return Error{"shrink: --seed N is required (the failing seed)"};
  return flags;
}

Report run_once(const Scenario& scenario, uint64_t seed) {
  Simulator sim(scenario, seed);
  return sim.run();
}

const Check* find_check(const Report& r, const std::string& name) {
  for (const Check& c : r.checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// The text with "sync": {"mode": MODE} set.
std::string with_sync(const std::string& text, SyncMode mode) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  auto& a = d.GetAllocator();
  if (!d.HasMember("sync") || !d["sync"].IsObject()) {
    d.RemoveMember("sync");
    d.AddMember("sync", rapidjson::Value(rapidjson::kObjectType), a);
  }
  d["sync"].RemoveMember("mode");
  d["sync"].AddMember("mode", rapidjson::Value(sync_mode_name(mode), a), a);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  d.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

int shrink_command(int argc, char** argv) {
  Result<ShrinkFlags> parsed = parse_shrink_flags(std::vector<std::string>(argv, argv + argc));
  if (!parsed.ok()) return usage_error(parsed.error());
  const ShrinkFlags& flags = parsed.value();
  if (flags.help) {
    std::fputs(kShrinkUsage, stdout);
    return 0;
  }
  const uint64_t seed = *flags.seed;
  Result<std::string> file_text = read_scenario_text(flags.scenario_path);
  if (!file_text.ok()) return usage_error(file_text.error());
  Result<SeededScenario> seeded = seeded_scenario(file_text.value(), flags.scenario_path, seed);
  if (!seeded.ok()) return usage_error(seeded.error());
  std::string text = seeded.value().text;
  if (flags.sync) text = with_sync(text, *flags.sync);
  Result<std::string> standalone = standalone_scenario_text(text, seeded.value().scenario, seed, "");
  if (!standalone.ok()) return usage_error(flags.scenario_path + ": " + standalone.error());
  const std::string source = flags.output.empty() ? flags.scenario_path : flags.output;
  const TopologyLoader no_files = [](const std::string& path) -> Result<Topology> {
    return Error{path + ": the topology is inline here"};
  };
  auto parse = [&](const std::string& candidate) { return parse_scenario(candidate, source, "", no_files); };
  Result<Scenario> start = parse(standalone.value());
  if (!start.ok()) return usage_error(start.error());

  FILE* out = nullptr;  // Opened now, so that a bad path fails before the work.
  if (!flags.output.empty()) {
    out = std::fopen(flags.output.c_str(), "w");
    if (out == nullptr) return usage_error("--output " + flags.output + ": " + std::strerror(errno));
  }
  FILE* log = flags.output.empty() ? stderr : stdout;
  const Report original = run_once(start.value(), seed);
  std::string check = flags.check;
  if (check.empty()) {
    for (const Check& c : original.checks) {
      if (!c.pass) {
        check = c.name;
        break;
      }
    }
    if (check.empty()) {
      if (out != nullptr) std::fclose(out);
      std::fprintf(stderr, "herd shrink: %s seed %llu passes every check: nothing to shrink\n",
                   flags.scenario_path.c_str(), static_cast<unsigned long long>(seed));
      return 1;
    }
  } else {
    const Check* c = find_check(original, check);
    if (c == nullptr || c->pass) {
      if (out != nullptr) std::fclose(out);
    }
    if (c == nullptr) {
      std::string names;
      for (const Check& k : original.checks) names += (names.empty() ? "" : ", ") + k.name;
      return usage_error("--check " + check + ": the run has no such check (its checks: " + names + ")");
    }
    if (c->pass) {
      std::fprintf(stderr, "herd shrink: %s seed %llu passes %s: nothing to shrink\n", flags.scenario_path.c_str(),
                   static_cast<unsigned long long>(seed), check.c_str());
      return 1;
    }
  }
  std::fprintf(log, "herd shrink: %s seed %llu fails %s (%llu updates, %zu timeline events); shrinking\n",
               flags.scenario_path.c_str(), static_cast<unsigned long long>(seed), check.c_str(),
               static_cast<unsigned long long>(original.updates), start.value().plan.timeline.size());
  auto fails = [&](const std::string& candidate) {
    Result<Scenario> s = parse(candidate);
    if (!s.ok()) return false;
    const Report one = run_once(s.value(), seed);
    // A failure counts when its figure is past the bound: a liveness check that
    // never ran (the run ended first) fails with its figure at the bound.
    const Check* c = find_check(one, check);
    if (c == nullptr || c->pass || c->figure == c->bound) return false;
    const Report two = run_once(s.value(), seed);
    const Check* c2 = find_check(two, check);
    return c2 != nullptr && !c2->pass && c2->figure == c->figure && two.digest == one.digest;
  };
  auto say = [&](const std::string& line) { std::fprintf(log, "herd shrink: %s\n", line.c_str()); };
  ShrinkResult result = shrink_scenario(standalone.value(), fails, flags.max_steps, say);

  Result<Scenario> final_scenario = parse(result.text);
  HERD_ASSERT(final_scenario.ok());
  const Report last = run_once(final_scenario.value(), seed);
  const std::string description = "Shrunk by herd shrink from " + flags.scenario_path + " --seed " +
                                  std::to_string(seed) + ": fails " + check + " with " +
                                  std::to_string(final_scenario.value().plan.timeline.size()) + " timeline events and " +
                                  std::to_string(last.updates) + " updates.";
  Result<std::string> out_text = standalone_scenario_text(result.text, final_scenario.value(), seed, description);
  HERD_ASSERT(out_text.ok());
  for (const std::string& change : result.changes) say("removed: " + change);
  std::fprintf(log,
               "herd shrink: %llu steps tried, %llu kept%s; the result fails %s with %zu timeline events and %llu "
               "updates (from %zu and %llu)\n",
               static_cast<unsigned long long>(result.steps), static_cast<unsigned long long>(result.kept),
               result.budget_spent ? " (stopped at --max-steps)" : "", check.c_str(),
               final_scenario.value().plan.timeline.size(), static_cast<unsigned long long>(last.updates),
               start.value().plan.timeline.size(), static_cast<unsigned long long>(original.updates));
  if (flags.output.empty()) {
    std::fputs(out_text.value().c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  const bool ok = std::fputs(out_text.value().c_str(), out) >= 0;
  if (std::fclose(out) != 0 || !ok) {
    std::fprintf(stderr, "herd: --output %s: %s\n", flags.output.c_str(), std::strerror(errno));
    return 1;
  }
  std::fprintf(log, "herd shrink: wrote %s (herd sim %s fails %s)\n", flags.output.c_str(), flags.output.c_str(),
               check.c_str());
  return 0;
}

}  // namespace herd
