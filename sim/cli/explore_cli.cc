// `herd explore SCENARIO [--max-states N] [--trace FILE] [--json] [--output FILE]`
// (sim/explore.h): every delivery order of a small herd, checked.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "node/json_bytes.h"
#include "sim/cli/cli.h"
#include "sim/cli/scenario_file.h"
#include "sim/cli/sweep_cli.h"
#include "sim/explore.h"

namespace herd {
namespace {

constexpr const char* kExploreUsage =
    "usage: herd explore SCENARIO.json [--max-states N] [--trace FILE] [--json] [--output FILE]\n"
    "  Every order in which a small herd's (at most 4 servers) server-to-server messages can\n"
    "  be delivered, with the drops and crashes the scenario's \"explore\" section allows,\n"
    "  states hashed; liveness checked at every end state, safety after every step.\n"
    "  --max-states N   stop after N distinct states, 1..5000000 (default 1000000)\n"
    "  --trace FILE     write the first violating order as a trace that herd replay runs\n"
    "  --json           the result as one JSON object\n"
    "  --output FILE    write the result to FILE, not stdout\n"
    "Exit status: 0 every state explored and no violation, 1 a violation (or the search was\n"
    "cut at --max-states: nothing proven), 2 bad usage or scenario.\n";

struct ExploreFlags {
  std::string scenario_path, trace, output;
  uint64_t max_states = kExploreStatesDefault;
  bool json = false, help = false;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

Result<ExploreFlags> parse_explore_flags(const std::vector<std::string>& args) {
  ExploreFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else if (arg == "--json") {
      flags.json = true;
    } else if (is_option(arg, "--max-states")) {
      Result<std::string> v = option_value(args, &i, "--max-states");
      if (!v.ok()) return Error{v.error()};
      Result<int64_t> n = parse_int_option("--max-states", v.value(), 1, static_cast<int64_t>(kExploreStatesMax));
      if (!n.ok()) return Error{n.error()};
      flags.max_states = static_cast<uint64_t>(n.value());
    } else if (is_option(arg, "--trace") || is_option(arg, "--output")) {
      const bool trace = is_option(arg, "--trace");
      const char* flag = trace ? "--trace" : "--output";
      Result<std::string> v = option_value(args, &i, flag);
      if (!v.ok()) return Error{v.error()};
      if (v.value().empty()) return Error{std::string(flag) + ": expected a file name"};
      (trace ? flags.trace : flags.output) = v.value();
    } else if (is_option_word(arg)) {
      return Error{"explore: unknown option '" + arg + "' (see herd explore --help)"};
    } else if (flags.scenario_path.empty()) {
      flags.scenario_path = arg;
    } else {
      return Error{"explore: one scenario only (got '" + flags.scenario_path + "' and '" + arg + "')"};
    }
  }
  if (flags.help) return flags;
  if (flags.scenario_path.empty()) return Error{"explore: expected a SCENARIO file (see herd explore --help)"};
  if (!flags.trace.empty() && flags.trace == flags.output) return Error{"--trace and --output: the same file"};
  return flags;
}

std::string result_json(const ExploreFlags& flags, const Scenario& s, const ExploreSpec& spec, const ExploreResult& r,
                        int64_t wall_ns) {
  std::string o = "{\"scenario\":" + json_bytes(s.name) + ",\"servers\":" + std::to_string(s.topology.nodes.size()) +
                  ",\"links\":" + std::to_string(s.topology.links.size()) + ",\"updates\":" +
                  std::to_string(spec.updates.size()) + ",\"drops\":" + std::to_string(spec.drops) +
                  ",\"crashes\":" + std::to_string(spec.crashes) + ",\"sync\":" + json_bytes(sync_mode_name(s.sync.mode)) +
                  ",\"states\":" + std::to_string(r.states) + ",\"end_states\":" + std::to_string(r.end_states) +
                  ",\"transitions\":" + std::to_string(r.transitions) + ",\"revisits\":" + std::to_string(r.revisits) +
                  ",\"max_depth\":" + std::to_string(r.max_depth) + ",\"complete\":" + (r.complete ? "true" : "false") +
                  ",\"violated\":" + (r.violated ? "true" : "false") + ",\"violation\":" + json_bytes(r.violation) +
                  ",\"order\":[";
  for (size_t i = 0; i < r.order.size(); ++i) o += (i ? "," : "") + json_bytes(r.order[i]);
  o += "],\"trace\":" + (r.violated && !flags.trace.empty() && r.trace_error.empty() ? json_bytes(flags.trace)
                                                                                      : std::string("null"));
  return o + ",\"wall_ms\":" + ms3(wall_ns) + "}\n";
}

std::string result_text(const ExploreFlags& flags, const Scenario& s, const ExploreSpec& spec, const ExploreResult& r,
                        int64_t wall_ns) {
  std::string o = "herd explore: " + s.name + " (" + flags.scenario_path + "): " +
                  std::to_string(s.topology.nodes.size()) + " servers, " + std::to_string(s.topology.links.size()) +
                  " links, " + std::to_string(spec.updates.size()) + " updates, drops " + std::to_string(spec.drops) +
                  ", crashes " + std::to_string(spec.crashes) + ", sync " + sync_mode_name(s.sync.mode) + "\n";
  o += "  states        " + std::to_string(r.states) + "  (end states " + std::to_string(r.end_states) +
       ", transitions " + std::to_string(r.transitions) + ", revisits " + std::to_string(r.revisits) +
       ", longest order " + std::to_string(r.max_depth) + ")\n";
  o += "  time          " + ms3(wall_ns) + " ms\n";
  if (r.violated) {
    o += "  result        VIOLATION: " + r.violation + "\n";
    for (size_t i = 0; i < r.order.size(); ++i) {
      o += std::string(i == 0 ? "  order         " : "                ") + std::to_string(i + 1) + ". " + r.order[i] + "\n";
    }
    if (!flags.trace.empty() && r.trace_error.empty()) {
      o += "  trace         " + flags.trace + " (herd replay " + flags.trace + ")\n";
    } else if (flags.trace.empty()) {
      o += "  trace         none written (--trace FILE writes one)\n";
    }
  } else if (r.complete) {
    o += "  result        every state explored: no violation\n";
  } else {
    o += "  result        INCOMPLETE: stopped at --max-states " + std::to_string(r.states) + "; nothing proven\n";
  }
  return o;
}

}  // namespace

int explore_command(int argc, char** argv) {
  Result<ExploreFlags> parsed = parse_explore_flags(std::vector<std::string>(argv, argv + argc));
  if (!parsed.ok()) return usage_error(parsed.error());
  const ExploreFlags& flags = parsed.value();
  if (flags.help) {
    std::fputs(kExploreUsage, stdout);
    return 0;
  }
  Result<std::string> text = read_scenario_text(flags.scenario_path);
  if (!text.ok()) return usage_error(text.error());
  Result<Scenario> scenario = parse_scenario_file_text(text.value(), flags.scenario_path);
  if (!scenario.ok()) return usage_error(scenario.error());
  if (scenario.value().swarm) return usage_error(flags.scenario_path + ": swarm: herd explore takes a plain scenario");
  Result<ExploreSpec> spec = parse_explore_spec(text.value(), flags.scenario_path, scenario.value());
  if (!spec.ok()) return usage_error(spec.error());
  const auto start = std::chrono::steady_clock::now();
  Result<ExploreResult> result = explore(scenario.value(), spec.value(), flags.max_states, flags.trace);
  const int64_t wall_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) {
    std::fprintf(stderr, "herd: %s: %s\n", flags.scenario_path.c_str(), result.error().c_str());
    return 1;
  }
  const ExploreResult& r = result.value();
  const std::string out = flags.json ? result_json(flags, scenario.value(), spec.value(), r, wall_ns)
                                     : result_text(flags, scenario.value(), spec.value(), r, wall_ns);
  FILE* f = stdout;
  if (!flags.output.empty()) {
    f = std::fopen(flags.output.c_str(), "w");
    if (f == nullptr) return usage_error("--output " + flags.output + ": " + std::strerror(errno));
  }
  const bool wrote = std::fputs(out.c_str(), f) >= 0 && std::fflush(f) == 0;
  if ((f != stdout && std::fclose(f) != 0) || !wrote) {
    std::fprintf(stderr, "herd: explore: cannot write the result: %s\n", std::strerror(errno));
    return 1;
  }
  if (!r.trace_error.empty()) {
    std::fprintf(stderr, "herd: explore: %s\n", r.trace_error.c_str());
    return 1;
  }
  return r.complete && !r.violated ? 0 : 1;
}

}  // namespace herd
