#include "net/fd_budget.h"

#include <algorithm>

namespace herd {

FdBudget plan_fds(uint64_t limit, const FdNeeds& n) {
  FdBudget b;
  b.limit = limit;
  b.others = kFdReserve + kFdPerServer * n.servers + kFdPerLinkEnd * n.link_ends + n.peer_listeners + n.admin +
             n.places;
  b.max_clients = n.max_clients;
  if (n.servers == 0) return b;
  const uint64_t room = limit > b.others ? (limit - b.others) / n.servers : 0;
  if (room < n.max_clients) {
    b.max_clients = static_cast<size_t>(room);
    b.lowered = true;
  }
  return b;
}

}  // namespace herd
