// Every hosted server of a topology on one libuv loop: `herd run` hosts all of
// them, `herd node NAME` one; the code is the same. Owns the ServerHosts, the one
// PlacesClient they share, the signal handles and the readiness timer, and, when
// asked for, the fault layer (net/live_faults.h: every peer link's send path goes
// through a FaultyLink) and the console (net/console.h: stdin and an admin port).
// The faults timeline starts, and stdin is read, once the herd is ready.
//
// Life: construct, start() (binds every listener, then points each link at the
// port its neighbour actually bound, then dials), run the loop; stop() (a signal
// calls it) closes every handle, so the loop runs dry; destroy after uv_run returns.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "net/console.h"
#include "net/live_faults.h"
#include "net/places_client.h"
#include "net/server_host.h"
#include "net/uv_timer.h"
#include "node/link_machine.h"
#include "node/result.h"
#include "node/peer_auth.h"
#include "node/sync.h"
#include "node/topology.h"

namespace herd {

struct HostOptions {
  std::string log_dir = "logs";
  uint64_t log_max_bytes = 256u << 20;  // Per log file, then rotated (LogWriter); 0: no cap.
  LogLevel log_level = LogLevel::kAll;  // kOff: no log directory or file at all.
  int port_base = -1;        // -1: the topology's ports; 0: ephemeral (all servers hosted).
  std::string host;          // Non-empty: every server's address (listen and dial).
  int peer_port_offset = 0;  // > 0: server i's peers listen and dial at its port + this.
  size_t max_clients = 20'000;
  uint64_t client_idle_ms = 60'000;  // Clients and admin connections idle this long are closed; 0: never.
  size_t max_record_bytes = 256u << 20;             // Every node's (NodeConfig).
  int64_t max_clock_skew_ns = 86'400'000'000'000;   // Every node's (NodeConfig); 0: none.
  PlacesConfig places;
  uint64_t ready_timeout_ms = 5000;
  uint64_t seed = 1;          // Every node's seed (its Rng is derived from it and its name).
  SyncConfig sync;            // Every node's anti-entropy.
  LinkTimings link;           // Every node's link timings.
  size_t link_queue_bytes = 16u << 20;  // A peer connection's unsent bytes before backpressure.
  // The fault layer; REQUIRES: every server of the topology is hosted.
  std::optional<FaultSetup> faults;
  int admin_port = -1;         // >= 0: the console on admin_host:admin_port (0: ephemeral).
  std::string admin_host = "127.0.0.1";  // With herd_key, admin connections prove it.
  bool stdin_console = false;  // Read console commands from stdin (when readable).
  // The faults timeline's at_ms counts from the servers' start (as in `herd sim`)
  // instead of from the herd's ready.
  bool timeline_from_start = false;
  // The herd key (crypto/sodium_mac.h): peers authenticate with it. None: they do not.
  std::optional<AuthKey> herd_key;
};

class HerdHost {
 public:
  // REQUIRES: every name in `hosted` is a node of `topology`.
  HerdHost(uv_loop_t* loop, Topology topology, std::vector<std::string> hosted,
           HostOptions options);
  ~HerdHost();  // REQUIRES: stop() ran and the loop ran dry.
  HerdHost(const HerdHost&) = delete;
  HerdHost& operator=(const HerdHost&) = delete;

  // Errors name the server: "Riley: cannot listen on 127.0.0.1:12345: address already in use".
  // On error, call stop() and run the loop to release what was opened.
  Result<bool> start();

  // `ready(complete)` runs once: when every link between two hosted servers is up
  // at both ends (complete), or after options.ready_timeout_ms (not complete).
  void when_ready(std::function<void(bool complete)> ready);

  // SIGINT and SIGTERM call stop().
  void handle_signals();

  // Closes everything (idempotent); `why` goes to each log.
  void stop(std::string_view why);
  bool stopping() const { return stopping_; }

  const std::vector<std::unique_ptr<ServerHost>>& servers() const { return servers_; }
  ServerHost* server(std::string_view name) const;
  LiveFaults* faults() const { return faults_.get(); }
  // "127.0.0.1:12345" once the admin port listens; empty otherwise.
  std::string admin_text() const;

 private:
  struct SignalBox;
  int listen_port(int node_index) const;
  // Where the node's neighbours dial it when it has a peer port of its own, else -1
  // (0: an ephemeral port, with --port-base 0).
  int peer_listen_port(int node_index) const;
  std::string node_host(const TopologyNode& node) const;
  Result<bool> point_links();
  bool links_up() const;
  void check_ready();
  void finish_ready(bool complete);
  Result<bool> open_console();
  std::string console_answer(std::string_view line, std::string_view source);

  uv_loop_t* loop_;
  Topology topology_;
  std::vector<std::string> hosted_;
  HostOptions options_;
  std::unique_ptr<PlacesClient> places_;
  bool places_closed_ = false;
  // Declared before servers_: the FaultyLinks the servers own refer to it.
  std::unique_ptr<LiveFaults> faults_;
  std::unique_ptr<Console> console_;
  std::vector<std::unique_ptr<ServerHost>> servers_;  // In topology file order.
  std::vector<SignalBox*> signals_;                   // Each freed by its close callback.
  std::unique_ptr<Timer> ready_timer_;
  std::function<void(bool)> ready_;
  bool stopping_ = false;
};

// Creates `path` and its missing parents. Errors: "cannot create log directory x: <why>".
Result<bool> make_directories(const std::string& path);

}  // namespace herd
