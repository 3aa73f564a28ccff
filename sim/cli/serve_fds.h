// The descriptors of `herd run` and `herd node`: the limit raised as far as allowed,
// and --max-clients lowered so that every hosted server's clients and the rest of
// the herd fit in it (net/fd_budget.h). What they do is said at start:
//   herd: descriptor limit raised from 1024 to 1048576                       (stdout)
//   herd: warning: descriptor limit 20000 leaves room for 3926 clients per server,
//   not 20000: --max-clients is 3926 (5 servers; 366 descriptors for peers, admin,
//   Places and logs)                                                          (stderr)
//   herd: descriptor limit 300 is too low: 5 servers need 366 descriptors besides
//   clients                                                          (stderr, exit 1)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "net/herd_host.h"
#include "node/topology.h"

namespace herd {

// The descriptor limit (RLIMIT_NOFILE), raised to the hard limit when it is lower.
uint64_t raise_fd_limit();

// Fits the hosted servers' clients and the rest of the herd in `limit` descriptors:
// lowers options->max_clients (with the warning) when they do not fit; false (said)
// when not one client per server fits.
bool fit_descriptors(uint64_t limit, const Topology& topology, const std::vector<std::string>& hosted,
                     HostOptions* options);

}  // namespace herd
