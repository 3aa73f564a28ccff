// A herd's topology: its servers (name, address, port) and the links between them.
// Parsed from JSON text; reading the file is the host's business (net/files.h).
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "node/result.h"

namespace herd {

// A topology's limits: far above any herd we run, they bound the memory and time a
// bad file costs.
constexpr size_t kTopologyNodesMax = 100000;
constexpr size_t kTopologyLinksMax = 1000000;

struct TopologyNode {
  std::string name;
  std::string host = "127.0.0.1";  // The optional "host" field.
  int port = 0;                     // 1..65535 (0 only where a caller allows it).
  int peer_port = 0;                // The optional "peer_port": peers listen and dial
                                    // here instead of `port` (0: none).
};

struct Topology {
  std::string name;
  std::vector<TopologyNode> nodes;                          // In file order.
  std::vector<std::pair<std::string, std::string>> links;  // Undirected, each once.

  const TopologyNode* find(std::string_view node) const;
  int index_of(std::string_view node) const;  // -1 when absent.
  // The node's neighbours, sorted by name (peers are always kept sorted).
  std::vector<std::string> neighbours(std::string_view node) const;
  // The connected components: node indexes, each component in file order, the
  // components ordered by their first node. One component when connected; a node
  // with no link is a component of its own. An update floods its origin's only.
  std::vector<std::vector<int>> components() const;
};

// A topology's names and links as indexes, built once in O(links log nodes): setting
// up a herd of 100,000 servers asks for every node's neighbours, which Topology's own
// scans answer in O(links) each. The topology must outlive the index and not change.
class TopologyIndex {
 public:
  explicit TopologyIndex(const Topology& topology);
  int index_of(std::string_view node) const;  // -1 when absent.
  // The node's neighbours' indexes, sorted by name (as Topology::neighbours).
  std::span<const int> neighbours(int node) const {
    const auto i = static_cast<size_t>(node);
    return std::span<const int>(adjacent_).subspan(first_[i], first_[i + 1] - first_[i]);
  }
  std::vector<std::string> neighbour_names(int node) const;

 private:
  const Topology* topology_;
  std::unordered_map<std::string_view, int> index_;  // Looked up, never iterated.
  std::vector<size_t> first_;                        // Node i's neighbours: adjacent_[first_[i] .. first_[i+1]).
  std::vector<int> adjacent_;
};

// "a, b, c", or the first `max_shown` and "and N more": for messages that list
// names (unknown server, components), so a 1000-node topology stays one line.
std::string names_text(const std::vector<std::string>& names, size_t max_shown = 20);

// The components of a topology with more than one, for a warning or a note:
// "3 components: [a], [b, c], [d]" (at most 10 components and names_text in each);
// empty when connected.
std::string components_text(const Topology& topology);

// Parses and validates: names unique and non-empty (no white space), ports in range
// and unique per host, links naming known nodes, no self-links, no duplicate links;
// at most kTopologyNodesMax nodes and kTopologyLinksMax links.
// Errors name the source, the line and the field:
//   "topologies/x.json: line 4: nodes[1].port: must be an integer in 1..65535"
Result<Topology> parse_topology(std::string_view json_text, std::string_view source_name);

}  // namespace herd
