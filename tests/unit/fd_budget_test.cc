// The descriptor budget (net/fd_budget.h): what the herd keeps for itself, and
// --max-clients lowered to what fits.
#include "net/fd_budget.h"

#include <doctest/doctest.h>

namespace herd {
namespace {

TEST_CASE("fd budget: clients fit, or --max-clients is lowered to what does, or nothing fits") {
  FdNeeds needs;
  needs.servers = 5;
  needs.link_ends = 12;  // The default topology's 6 links, both ends hosted.
  needs.admin = 18;
  needs.places = 288;
  needs.max_clients = 20'000;
  const uint64_t others = kFdReserve + 5 * kFdPerServer + 12 * kFdPerLinkEnd + 18 + 288;
  FdBudget b = plan_fds(1'048'576, needs);
  CHECK(b.others == others);
  CHECK(b.max_clients == 20'000);
  CHECK_FALSE(b.lowered);
  b = plan_fds(20'000, needs);
  CHECK(b.lowered);
  CHECK(b.max_clients == (20'000 - others) / 5);
  CHECK(b.others + 5 * b.max_clients <= 20'000);
  b = plan_fds(others + 4, needs);
  CHECK(b.max_clients == 0);  // Not one client per server.
  CHECK(plan_fds(others + 5, needs).max_clients == 1);
}

}  // namespace
}  // namespace herd
