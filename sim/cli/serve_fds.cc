#include "sim/cli/serve_fds.h"

#include <sys/resource.h>

#include <cstdio>

#include "net/console.h"
#include "net/fd_budget.h"

namespace herd {

uint64_t raise_fd_limit() {
  // Why: a herd serves thousands of clients; the soft limit is often 1024.
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      printf("herd: descriptor limit raised from %llu to %llu\n", static_cast<unsigned long long>(before),
             static_cast<unsigned long long>(limit.rlim_cur));
    } else {
      limit.rlim_cur = before;
    }
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit.rlim_cur);
}

// Fits every hosted server's clients, with the rest of the herd, in `limit`
// descriptors (net/fd_budget.h): lowers --max-clients, with a warning, when they do
// not fit; false (said) when not even one client per server fits.
bool fit_descriptors(uint64_t limit, const Topology& topology, const std::vector<std::string>& hosted,
                     HostOptions* options) {
  FdNeeds needs;
  needs.servers = hosted.size();
  for (const std::string& name : hosted) {
    needs.link_ends += topology.neighbours(name).size();
    const TopologyNode* node = topology.find(name);
    if (options->peer_port_offset > 0 || (node != nullptr && node->peer_port != 0)) ++needs.peer_listeners;
  }
  needs.admin = options->admin_port >= 0 ? Console::kMaxAdminClients + 2 : 0;
  needs.places = options->places.max_connections + 32;  // And the resolver's.
  needs.max_clients = options->max_clients;
  const FdBudget budget = plan_fds(limit, needs);
  if (budget.max_clients == 0) {
    fprintf(stderr, "herd: descriptor limit %llu is too low: %zu server%s need %llu descriptors besides clients\n",
            static_cast<unsigned long long>(limit), hosted.size(), hosted.size() == 1 ? "" : "s",
            static_cast<unsigned long long>(budget.others));
    return false;
  }
  if (budget.lowered) {
    fprintf(stderr,
            "herd: warning: descriptor limit %llu leaves room for %zu clients per server, not %zu: "
            "--max-clients is %zu (%zu server%s; %llu descriptors for peers, admin, Places and logs)\n",
            static_cast<unsigned long long>(limit), budget.max_clients, options->max_clients, budget.max_clients,
            hosted.size(), hosted.size() == 1 ? "" : "s", static_cast<unsigned long long>(budget.others));
    options->max_clients = budget.max_clients;
  }
  return true;
}

}  // namespace herd
