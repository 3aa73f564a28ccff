// The scenario's topology (a path, an inline object, or a generated random graph)
// and the relocation of errors from parsers that see only part of the scenario.
#include <algorithm>
#include <charconv>
#include <unordered_set>
#include <utility>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "node/check.h"
#include "node/rng.h"
#include "sim/scenario.h"
#include "sim/scenario_parse.h"

namespace herd {

Topology random_topology(int nodes, int degree, uint64_t seed) {
  HERD_ASSERT(nodes >= 1 && static_cast<size_t>(nodes) <= kRandomNodesMax && degree >= 0);
  Rng rng = derive(seed, "random-topology");
  Topology t;
  t.name = "random" + std::to_string(nodes);
  const int width = nodes <= 10000 ? 4 : nodes <= 100000 ? 5 : 6;
  t.nodes.reserve(static_cast<size_t>(nodes));
  for (int i = 0; i < nodes; ++i) {
    std::string digits = std::to_string(i);
    // 40,000 ports a host: 127.0.0.1, then 127.0.1.1, ... (only a simulator runs so many).
    t.nodes.push_back({"r" + std::string(static_cast<size_t>(width) - digits.size(), '0') + digits,
                       "127.0." + std::to_string(i / kRandomPortsPerHost) + ".1", 20000 + i % kRandomPortsPerHost});
  }
  std::unordered_set<uint64_t> linked;  // a * nodes + b, a < b; looked up, never iterated.
  linked.reserve(static_cast<size_t>(nodes) * static_cast<size_t>(std::max(degree, 1)) / 2 + 1);
  auto add = [&](int a, int b) {
    if (a == b) return false;
    if (a > b) std::swap(a, b);
    if (!linked.insert(static_cast<uint64_t>(a) * static_cast<uint64_t>(nodes) + static_cast<uint64_t>(b)).second) {
      return false;
    }
    t.links.emplace_back(t.nodes[static_cast<size_t>(a)].name, t.nodes[static_cast<size_t>(b)].name);
    return true;
  };
  // A uniform random parent for each node: connected, like any tree.
  for (int i = 1; i < nodes; ++i) add(static_cast<int>(rng.uniform_u64(0, static_cast<uint64_t>(i - 1))), i);
  const uint64_t pairs = static_cast<uint64_t>(nodes) * static_cast<uint64_t>(nodes - 1) / 2;
  uint64_t target = std::min<uint64_t>(pairs, static_cast<uint64_t>(nodes) * static_cast<uint64_t>(degree) / 2);
  // Bounded attempts: a near-complete graph would otherwise spin on rejections.
  for (uint64_t tries = 0; t.links.size() < target && tries < 100 * target; ++tries) {
    add(static_cast<int>(rng.uniform_u64(0, static_cast<uint64_t>(nodes - 1))),
        static_cast<int>(rng.uniform_u64(0, static_cast<uint64_t>(nodes - 1))));
  }
  return t;
}

std::string json_text_of(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// "SOURCE: line L: PATH: what" or "SOURCE: PATH: what" -> PATH and what, resolved in
// `base`: "scenario: line L': BASEPATH.PATH: what".
Error relocate_error(const std::string& error, std::string_view source, const JsonDoc& doc,
                     const JsonField& base) {
  std::string_view rest = error;
  if (rest.starts_with(source) && rest.substr(source.size()).starts_with(": ")) {
    rest.remove_prefix(source.size() + 2);
  }
  if (rest.starts_with("line ")) {
    const size_t colon = rest.find(": ");
    if (colon != std::string_view::npos) rest.remove_prefix(colon + 2);
  }
  const size_t colon = rest.find(": ");
  std::string_view path = colon == std::string_view::npos ? "" : rest.substr(0, colon);
  std::string_view what = colon == std::string_view::npos ? rest : rest.substr(colon + 2);
  if (path == "(top level)" || path == "top level") path = "";
  // Walks as far as the path leads; the deepest value found gives the line.
  const rapidjson::Value* v = &base.value();
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') ++i;
    if (i < path.size() && path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string_view::npos) break;
      // A key may hold brackets ({"[]x": 1} is "links.[]x"): text that is no index
      // ends the walk, like a key that is not there.
      const std::string_view digits = path.substr(i + 1, close - i - 1);
      size_t index = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) break;
      if (!v->IsArray() || index >= v->Size()) break;
      v = &(*v)[static_cast<rapidjson::SizeType>(index)];
      i = close + 1;
      continue;
    }
    const size_t end = std::min(path.find_first_of(".[", i), path.size());
    const std::string key(path.substr(i, end - i));
    if (!v->IsObject() || !v->HasMember(key.c_str())) break;
    v = &(*v)[key.c_str()];
    i = end;
  }
  std::string full = base.path();
  if (!path.empty()) full += (full.empty() ? "" : ".") + std::string(path);
  return JsonField(&doc, v, full).error(what);
}

Result<Topology> parse_scenario_topology(const JsonDoc& doc, const JsonField& f, const std::string& base_dir,
                                         const TopologyLoader& load) {
  if (f.value().IsString()) {
    Result<std::string> path = f.expect_string(4096);
    if (!path.ok()) return Error{path.error()};
    std::string resolved = path.value();
    if (!resolved.empty() && resolved[0] != '/' && !base_dir.empty()) resolved = base_dir + "/" + resolved;
    Result<Topology> t = load(resolved);
    if (!t.ok()) return f.error("cannot use topology: " + t.error());
    return t;
  }
  if (!f.value().IsObject()) return f.error("must be a path or a topology object");
  if (std::optional<JsonField> random = f.optional("random")) {
    if (auto e = f.expect_object({"random"})) return *e;
    if (auto e = random->expect_object({"nodes", "degree", "seed"})) return *e;
    Result<int64_t> nodes = int_member(*random, "nodes", 1, static_cast<int64_t>(kRandomNodesMax), std::nullopt);
    if (!nodes.ok()) return Error{nodes.error()};
    Result<int64_t> degree = int_member(*random, "degree", 0, 1000, 4);
    if (!degree.ok()) return Error{degree.error()};
    Result<int64_t> seed = int_member(*random, "seed", 0, INT64_MAX, 1);
    if (!seed.ok()) return Error{seed.error()};
    // Bounded: a million nodes of degree 1000 would be 500 million links, tens of
    // gigabytes before the run starts.
    const int64_t links = nodes.value() * degree.value() / 2;
    if (links > static_cast<int64_t>(kRandomLinksMax)) {
      return random->error(std::to_string(nodes.value()) + " nodes of degree " + std::to_string(degree.value()) +
                           " make " + std::to_string(links) + " links; at most " +
                           std::to_string(kRandomLinksMax));
    }
    return random_topology(static_cast<int>(nodes.value()), static_cast<int>(degree.value()),
                           static_cast<uint64_t>(seed.value()));
  }
  Result<Topology> t = parse_topology(json_text_of(f.value()), doc.source());
  if (!t.ok()) return relocate_error(t.error(), doc.source(), doc, f);
  return t;
}

}  // namespace herd
