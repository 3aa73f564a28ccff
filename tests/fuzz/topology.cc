// Fuzz target: topology files (node/topology.h). Input: the file's text. Checks that an
// error names the file, and that a topology that parses keeps every promise of
// parse_topology (unique names that are one protocol field, ports in range and unique
// per host, links between known nodes, no self-links, no duplicates), that its
// neighbour lists and components agree with its links, and that it re-validates:
// written back as JSON it parses to the same topology.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "node/topology.h"
#include "tests/fuzz/fuzz_util.h"

namespace herd::fuzz {
namespace {

constexpr std::string_view kSource = "fuzz-topology.json";

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string json_of(const Topology& t) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("name");
  write_string(w, t.name);
  w.Key("nodes");
  w.StartArray();
  for (const TopologyNode& n : t.nodes) {
    w.StartObject();
    w.Key("name");
    write_string(w, n.name);
    w.Key("host");
    write_string(w, n.host);
    w.Key("port");
    w.Int(n.port);
    if (n.peer_port != 0) {
      w.Key("peer_port");
      w.Int(n.peer_port);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("links");
  w.StartArray();
  for (const auto& [a, b] : t.links) {
    w.StartArray();
    write_string(w, a);
    write_string(w, b);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool is_word(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

void check_nodes(const Topology& t) {
  FUZZ_CHECK(!t.nodes.empty(), "a topology with no node");
  std::set<std::string> names;
  std::set<std::pair<std::string, int>> listeners;
  for (const TopologyNode& n : t.nodes) {
    FUZZ_CHECK(is_word(n.name) && is_word(n.host), "not a name: " + shown(n.name) + " at " + shown(n.host));
    FUZZ_CHECK(names.insert(n.name).second, "duplicate name " + shown(n.name));
    FUZZ_CHECK(n.port >= 1 && n.port <= 65535 && n.peer_port >= 0 && n.peer_port <= 65535,
               "port " + std::to_string(n.port) + "/" + std::to_string(n.peer_port));
    FUZZ_CHECK(listeners.insert({n.host, n.port}).second, "port used twice: " + std::to_string(n.port));
    if (n.peer_port != 0) {
      FUZZ_CHECK(listeners.insert({n.host, n.peer_port}).second, "peer port used twice");
    }
    FUZZ_CHECK(t.find(n.name) == &n && t.nodes[static_cast<size_t>(t.index_of(n.name))].name == n.name,
               "find/index_of disagree for " + shown(n.name));
  }
}

void check_links(const Topology& t) {
  std::set<std::pair<std::string, std::string>> seen;
  size_t ends = 0;
  for (const auto& [a, b] : t.links) {
    FUZZ_CHECK(t.find(a) != nullptr && t.find(b) != nullptr, "a link to an unknown node");
    FUZZ_CHECK(a != b, "a self-link at " + shown(a));
    FUZZ_CHECK(seen.insert(std::minmax(a, b)).second, "duplicate link " + shown(a) + "-" + shown(b));
  }
  for (const TopologyNode& n : t.nodes) {
    const std::vector<std::string> peers = t.neighbours(n.name);
    ends += peers.size();
    for (size_t i = 0; i < peers.size(); ++i) {
      FUZZ_CHECK(i == 0 || peers[i - 1] < peers[i], "neighbours of " + shown(n.name) + " not sorted and unique");
      FUZZ_CHECK(seen.count(std::minmax(n.name, peers[i])) == 1, "a neighbour with no link");
    }
  }
  FUZZ_CHECK(ends == 2 * t.links.size(), "neighbour lists miss links");
  size_t in_components = 0;
  for (const std::vector<int>& c : t.components()) in_components += c.size();
  FUZZ_CHECK(in_components == t.nodes.size(), "components do not partition the nodes");
  FUZZ_CHECK(components_text(t).find('\n') == std::string::npos, "components text spans lines");
}

void check_same(const Topology& a, const Topology& b) {
  FUZZ_CHECK(a.name == b.name && a.nodes.size() == b.nodes.size() && a.links == b.links,
             "written back, it parses to another topology");
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const TopologyNode &x = a.nodes[i], &y = b.nodes[i];
    FUZZ_CHECK(x.name == y.name && x.host == y.host && x.port == y.port && x.peer_port == y.peer_port,
               "node " + std::to_string(i) + " changed when written back");
  }
}

}  // namespace
}  // namespace herd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herd;
  using namespace herd::fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Topology> t = parse_topology(text, kSource);
  if (!t.ok()) {
    FUZZ_CHECK(t.error().starts_with(std::string(kSource) + ": "), "an error without the file: " + shown(t.error()));
    return 0;
  }
  check_nodes(t.value());
  check_links(t.value());
  const std::string again_text = json_of(t.value());
  Result<Topology> again = parse_topology(again_text, kSource);
  FUZZ_CHECK(again.ok(), "written back, it does not parse: " + (again.ok() ? "" : again.error()));
  check_same(t.value(), again.value());
  return 0;
}
