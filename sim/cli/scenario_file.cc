#include "sim/cli/scenario_file.h"

#include "net/files.h"
#include "node/topology.h"
#include "sim/swarm.h"

namespace herd {
namespace {

std::string base_dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
}

}  // namespace

Result<Scenario> load_scenario(const std::string& path, std::optional<uint64_t> max_memory_mb) {
  Result<std::string> text = read_text_file(path);
  if (!text.ok()) return Error{text.error()};
  return parse_scenario(text.value(), path, base_dir_of(path), load_topology, max_memory_mb);
}

Result<Scenario> parse_scenario_file_text(const std::string& text, const std::string& path) {
  return parse_scenario(text, path, base_dir_of(path), load_topology);
}

Result<std::string> read_scenario_text(const std::string& path) { return read_text_file(path); }

Result<SeededScenario> seeded_scenario(const std::string& text, const std::string& path,
                                       std::optional<uint64_t> seed, std::optional<uint64_t> max_memory_mb) {
  Result<Scenario> parsed = parse_scenario(text, path, base_dir_of(path), load_topology, max_memory_mb);
  if (!parsed.ok()) return Error{parsed.error()};
  return seeded_scenario(text, path, parsed.value(), seed.value_or(parsed.value().seed.value_or(1)));
}

Result<SeededScenario> seeded_scenario(const std::string& text, const std::string& path, const Scenario& parsed,
                                       uint64_t seed) {
  SeededScenario out;
  out.seed = seed;
  if (!parsed.swarm) {
    out.scenario = parsed;
    out.text = text;
    return out;
  }
  Result<SwarmConcrete> concrete = swarm_concrete(text, parsed, seed);
  if (!concrete.ok()) return Error{path + ": swarm: " + concrete.error()};
  Result<Scenario> s =
      parse_scenario(concrete.value().text, path, base_dir_of(path), load_topology, parsed.max_memory_mb);
  if (!s.ok()) return Error{path + ": the scenario drawn for seed " + std::to_string(seed) + ": " + s.error()};
  out.scenario = std::move(s.value());
  out.text = std::move(concrete.value().text);
  out.swarm_json = std::move(concrete.value().drawn_json);
  return out;
}

}  // namespace herd
