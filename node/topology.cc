#include "node/topology.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "node/json_where.h"

namespace herd {
namespace {

// Names appear in every AT line and flood message, so they stay short.
constexpr size_t kNameBytesMax = 64;
// The longest DNS name.
constexpr size_t kHostBytesMax = 253;

// Name index over the nodes parsed so far; looked up, never iterated.
using NameIndex = std::unordered_map<std::string, size_t>;

Result<TopologyNode> parse_node(const JsonField& f) {
  if (auto e = f.expect_object({"name", "port", "host", "peer_port"})) return *e;
  TopologyNode node;
  Result<JsonField> name = f.required("name");
  if (!name.ok()) return Error{name.error()};
  Result<std::string> name_text = name.value().expect_word(kNameBytesMax);
  if (!name_text.ok()) return Error{name_text.error()};
  node.name = std::move(name_text.value());

  Result<JsonField> port = f.required("port");
  if (!port.ok()) return Error{port.error()};
  Result<int64_t> port_value = port.value().expect_int(1, 65535);
  if (!port_value.ok()) return Error{port_value.error()};
  node.port = static_cast<int>(port_value.value());

  if (std::optional<JsonField> peer_port = f.optional("peer_port")) {
    Result<int64_t> value = peer_port->expect_int(1, 65535);
    if (!value.ok()) return Error{value.error()};
    node.peer_port = static_cast<int>(value.value());
  }

  if (std::optional<JsonField> host = f.optional("host")) {
    Result<std::string> host_text = host->expect_word(kHostBytesMax);
    if (!host_text.ok()) return Error{host_text.error()};
    node.host = std::move(host_text.value());
  }
  return node;
}

std::optional<Error> parse_nodes(const JsonField& nodes, Topology* t, NameIndex* index) {
  Result<size_t> n = nodes.expect_array(1, kTopologyNodesMax);
  if (!n.ok()) return Error{n.error()};
  std::map<std::pair<std::string, int>, size_t> by_address;  // (host, port) -> index.
  for (size_t i = 0; i < n.value(); ++i) {
    JsonField f = nodes.element(i);
    Result<TopologyNode> node = parse_node(f);
    if (!node.ok()) return Error{node.error()};
    const TopologyNode& v = node.value();
    auto [it, fresh] = index->emplace(v.name, i);
    if (!fresh) {
      return f.required("name").value().error("duplicate node \"" + v.name + "\" (also nodes[" +
                                              std::to_string(it->second) + "])");
    }
    // Client and peer ports share one space per host: each is a listener.
    struct Use {
      const char* key;
      int port;
    };
    for (const Use& use : {Use{"port", v.port}, Use{"peer_port", v.peer_port}}) {
      if (use.port == 0) continue;
      auto [at, unused_port] = by_address.emplace(std::make_pair(v.host, use.port), i);
      if (unused_port) continue;
      const std::string owner = at->second == i ? "its own \"port\""
                                                : "\"" + t->nodes[at->second].name + "\" (nodes[" +
                                                      std::to_string(at->second) + "])";
      return f.required(use.key).value().error("port " + std::to_string(use.port) + " on " + v.host +
                                               " is already used by " + owner);
    }
    t->nodes.push_back(node.value());
  }
  return std::nullopt;
}

// One endpoint of a link: the name of a node already declared.
Result<std::string> parse_endpoint(const JsonField& f, const NameIndex& index) {
  Result<std::string> name = f.expect_word(kNameBytesMax);
  if (!name.ok()) return name;
  if (index.count(name.value()) == 0) return f.error("unknown node \"" + name.value() + "\"");
  return name;
}

std::optional<Error> parse_links(const JsonField& links, Topology* t, const NameIndex& index) {
  Result<size_t> n = links.expect_array(0, kTopologyLinksMax);
  if (!n.ok()) return Error{n.error()};
  // Unordered pair (smaller name first) -> index, to catch "a-b" after "b-a".
  std::map<std::pair<std::string, std::string>, size_t> seen;
  for (size_t i = 0; i < n.value(); ++i) {
    JsonField f = links.element(i);
    Result<size_t> two = f.expect_array(2, 2);
    if (!two.ok()) return Error{two.error()};
    Result<std::string> a = parse_endpoint(f.element(0), index);
    if (!a.ok()) return Error{a.error()};
    Result<std::string> b = parse_endpoint(f.element(1), index);
    if (!b.ok()) return Error{b.error()};
    if (a.value() == b.value()) return f.error("links \"" + a.value() + "\" to itself");
    auto key = std::minmax(a.value(), b.value());
    auto [it, fresh] = seen.emplace(std::make_pair(key.first, key.second), i);
    if (!fresh) {
      return f.error("duplicate link " + a.value() + "-" + b.value() + " (also links[" +
                     std::to_string(it->second) + "])");
    }
    t->links.emplace_back(a.value(), b.value());
  }
  return std::nullopt;
}

}  // namespace

const TopologyNode* Topology::find(std::string_view node) const {
  for (const TopologyNode& n : nodes) {
    if (n.name == node) return &n;
  }
  return nullptr;
}

int Topology::index_of(std::string_view node) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == node) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::string> Topology::neighbours(std::string_view node) const {
  std::vector<std::string> out;
  for (const auto& [a, b] : links) {
    if (a == node) out.push_back(b);
    if (b == node) out.push_back(a);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TopologyIndex::TopologyIndex(const Topology& topology) : topology_(&topology) {
  const size_t n = topology.nodes.size();
  index_.reserve(n);
  for (size_t i = 0; i < n; ++i) index_.emplace(topology.nodes[i].name, static_cast<int>(i));
  // Counting sort of the link ends by node, then each node's run sorted by name.
  first_.assign(n + 1, 0);
  std::vector<std::pair<int, int>> ends;
  ends.reserve(2 * topology.links.size());
  for (const auto& [a, b] : topology.links) {
    const int x = index_of(a), y = index_of(b);
    if (x < 0 || y < 0) continue;
    ends.emplace_back(x, y);
    ends.emplace_back(y, x);
  }
  for (const auto& end : ends) ++first_[static_cast<size_t>(end.first) + 1];
  for (size_t i = 0; i < n; ++i) first_[i + 1] += first_[i];
  adjacent_.resize(ends.size());
  std::vector<size_t> next(first_.begin(), first_.end() - 1);
  for (const auto& [from, to] : ends) adjacent_[next[static_cast<size_t>(from)]++] = to;
  const auto by_name = [&](int x, int y) {
    return topology.nodes[static_cast<size_t>(x)].name < topology.nodes[static_cast<size_t>(y)].name;
  };
  for (size_t i = 0; i < n; ++i) {
    std::sort(adjacent_.begin() + static_cast<std::ptrdiff_t>(first_[i]),
              adjacent_.begin() + static_cast<std::ptrdiff_t>(first_[i + 1]), by_name);
  }
}

int TopologyIndex::index_of(std::string_view node) const {
  auto it = index_.find(node);
  return it == index_.end() ? -1 : it->second;
}

std::vector<std::string> TopologyIndex::neighbour_names(int node) const {
  std::vector<std::string> out;
  for (int peer : neighbours(node)) out.push_back(topology_->nodes[static_cast<size_t>(peer)].name);
  return out;
}

std::vector<std::vector<int>> Topology::components() const {
  std::unordered_map<std::string_view, int> index;  // Looked up, never iterated.
  for (size_t i = 0; i < nodes.size(); ++i) index.emplace(nodes[i].name, static_cast<int>(i));
  // Union-find with path halving: links are few, so no union by rank is needed.
  std::vector<int> parent(nodes.size());
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = static_cast<int>(i);
  auto root = [&](int x) {
    while (parent[static_cast<size_t>(x)] != x) {
      parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
      x = parent[static_cast<size_t>(x)];
    }
    return x;
  };
  for (const auto& [a, b] : links) {
    auto ia = index.find(a), ib = index.find(b);
    if (ia == index.end() || ib == index.end()) continue;
    const int ra = root(ia->second), rb = root(ib->second);
    if (ra != rb) parent[static_cast<size_t>(std::max(ra, rb))] = std::min(ra, rb);
  }
  std::vector<std::vector<int>> out;
  std::vector<int> slot(nodes.size(), -1);  // Root -> its component's index in out.
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto r = static_cast<size_t>(root(static_cast<int>(i)));
    if (slot[r] < 0) {
      slot[r] = static_cast<int>(out.size());
      out.emplace_back();
    }
    out[static_cast<size_t>(slot[r])].push_back(static_cast<int>(i));
  }
  return out;
}

std::string names_text(const std::vector<std::string>& names, size_t max_shown) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max_shown; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > max_shown) out += " and " + std::to_string(names.size() - max_shown) + " more";
  return out;
}

std::string components_text(const Topology& topology) {
  constexpr size_t kComponentsShown = 10;
  const std::vector<std::vector<int>> parts = topology.components();
  if (parts.size() <= 1) return "";
  std::string out = std::to_string(parts.size()) + " components: ";
  for (size_t c = 0; c < parts.size() && c < kComponentsShown; ++c) {
    std::vector<std::string> names;
    for (int i : parts[c]) names.push_back(topology.nodes[static_cast<size_t>(i)].name);
    out += (c > 0 ? ", [" : "[") + names_text(names) + "]";
  }
  if (parts.size() > kComponentsShown) {
    out += " and " + std::to_string(parts.size() - kComponentsShown) + " more";
  }
  return out;
}

Result<Topology> parse_topology(std::string_view json_text, std::string_view source_name) {
  Result<JsonDoc> doc = parse_json(json_text, source_name);
  if (!doc.ok()) return Error{doc.error()};
  JsonField root = doc.value().root();
  if (auto e = root.expect_object({"name", "nodes", "links"})) return *e;

  Topology t;
  Result<JsonField> name = root.required("name");
  if (!name.ok()) return Error{name.error()};
  Result<std::string> name_text = name.value().expect_word(kNameBytesMax);
  if (!name_text.ok()) return Error{name_text.error()};
  t.name = std::move(name_text.value());

  Result<JsonField> nodes = root.required("nodes");
  if (!nodes.ok()) return Error{nodes.error()};
  NameIndex index;
  if (auto e = parse_nodes(nodes.value(), &t, &index)) return *e;

  Result<JsonField> links = root.required("links");
  if (!links.ok()) return Error{links.error()};
  if (auto e = parse_links(links.value(), &t, index)) return *e;
  return t;
}

}  // namespace herd
