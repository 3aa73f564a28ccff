// A herd's topology: its servers (name, address, port) and the links between them.
// Parsed from JSON text; reading the file is the host's business (net/files.h).
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/result.h"

namespace herd {

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
};

// Parses and validates: names unique and non-empty (no white space), ports in range
// and unique per host, links naming known nodes, no self-links, no duplicate links.
// Errors name the source, the line and the field:
//   "topologies/x.json: line 4: nodes[1].port: must be an integer in 1..65535"
Result<Topology> parse_topology(std::string_view json_text, std::string_view source_name);

}  // namespace herd
