// The herd's descriptor budget: within the process's descriptor limit
// (RLIMIT_NOFILE), every hosted server's client slots (--max-clients) and what the
// rest of the herd needs: its peer links, the admin console, Places connections, log
// files, listeners, and the process's own (stdio, libuv, a trace file). Without it one
// server's idle clients could take every descriptor, and every other server and the
// admin port would reset new connections. Pure arithmetic; the caller reads and raises
// the limit, and says what it did.
#pragma once
#include <cstddef>
#include <cstdint>

namespace herd {

// Descriptors the process keeps for itself: stdio, libuv's (epoll, its async and
// signal pipes), a trace file, the resolver's.
constexpr uint64_t kFdReserve = 64;
// Per server: its log file, its client listener, and a connection being refused.
constexpr uint64_t kFdPerServer = 3;
// Per link end: its connection, and another while a newer one replaces it.
constexpr uint64_t kFdPerLinkEnd = 2;

struct FdNeeds {
  size_t servers = 0;         // Hosted.
  size_t link_ends = 0;       // The hosted servers' neighbours, summed.
  size_t peer_listeners = 0;  // Hosted servers with a peer port of their own.
  size_t admin = 0;           // Descriptors of the admin console (0: none).
  size_t places = 0;          // Places connections at most.
  size_t max_clients = 0;     // Per server, as asked.
};

struct FdBudget {
  uint64_t limit = 0;      // The descriptor limit planned for.
  uint64_t others = 0;     // Descriptors for everything but clients.
  size_t max_clients = 0;  // Per server: as asked, or lowered to fit; 0: nothing fits.
  bool lowered = false;
};

FdBudget plan_fds(uint64_t limit, const FdNeeds& needs);

}  // namespace herd
