// Reading configuration files from disk for the host (node/ does no I/O): whole
// small text files, and topologies read and parsed in one step.
#pragma once
#include <cstddef>
#include <string>

#include "node/result.h"
#include "node/topology.h"

namespace herd {

// Configuration is small; the limit keeps a wrong path (a log, a device) from
// costing unbounded memory. Equal to the JSON parser's own limit.
constexpr size_t kTextFileBytesMax = 16 * 1024 * 1024;

// The whole file. Errors: "path: cannot read: <strerror>",
// "path: cannot read: larger than 16777216 bytes".
Result<std::string> read_text_file(const std::string& path);

// read_text_file, then parse_topology with `path` as the source name.
Result<Topology> load_topology(const std::string& path);

}  // namespace herd
