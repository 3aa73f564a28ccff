// What `herd run` and `herd node` check before anything is bound, so that a bad
// value is a usage error (exit 2) named after its flag or file, not a start-up
// failure: the log directory (created when missing) and every address the hosted
// servers listen on or dial. A port in use is only found by binding (exit 1).
#pragma once
#include <string>
#include <vector>

#include "node/result.h"
#include "node/topology.h"
#include "sim/cli/cli.h"

namespace herd {

// Errors, after "herd: ":
//   --log-dir /etc/passwd: not a directory
//   --log-dir /proc/x: cannot create /proc/x: No such file or directory
//   --host bogus.invalid: cannot resolve host "bogus.invalid": Name or service not known
//   topologies/x.json: server Riley: cannot resolve host "nowhere": ...
// REQUIRES: every name in `hosted` is a node of `topology`.
Result<bool> check_serve_setup(const ServeOptions& options, const Topology& topology,
                               const std::vector<std::string>& hosted);

}  // namespace herd
