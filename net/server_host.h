// One herd server on the live loop: its listeners (clients, and peers when it has a
// peer port), every connection it holds, its Node behind a NodeDriver, its log file
// and its timers. A thin host: it turns I/O into the node's inputs (node/input.h)
// with the live clock and applies the node's effects in the order given. It decides
// nothing about links: dialing, the handshake, backoff, liveness and sync are the
// node's (node/link_machine.h, node/sync.h), exactly as in the simulator.
//
// Connections: every accepted or dialed connection is a LineStream numbered by the
// host (c1, c2, ...). Accepted ones are clients until the node adopts one as a peer
// (kAdopt: its first line was a neighbour's hello); dialed ones are the node's from
// the start. Client connections keep their reply order (ClientConn). Peer writes are
// buffered per connection and written once per batch: at the end of each client read
// batch (before that batch's replies: a newer record is flooded before the reply),
// before any reply written outside a batch (Places), and once per loop iteration by a
// uv_check (after I/O callbacks) and a uv_prepare (after timers, before polling).
// A peer connection's unsent bytes over link_max_queued_bytes raise kBackpressure.
//
// Faults (net/live_faults.h): when the herd has a fault layer, every peer write goes
// through its FaultChannel first; crash(), restart(), pause(), resume() and reset_link()
// carry out the console's and timeline's requests. A crash closes the listeners and
// every connection and feeds kCrash (the same Node is kept: it forgets everything);
// a restart listens again on the same ports (also when they were ephemeral) and feeds
// kStart. A pause stops reading every connection and holds back timers, dial answers
// and Places answers until resume() (as SIGSTOP would), losing nothing.
//
// Owns its connections' state, its timers and its LogWriter; its listener handles
// are freed in their close callbacks, its streams free themselves. REQUIRES: the
// ServerHost outlives the loop's last callback for it: call close(), run the loop
// until it is empty, then destroy it. The PlacesClient (shared) and LiveFaults must
// outlive its use of them.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "net/client_conn.h"
#include "net/line_stream.h"
#include "net/listener.h"
#include "net/log_writer.h"
#include "net/uv_timer.h"
#include "node/driver.h"
#include "node/fault_state.h"
#include "node/result.h"

namespace herd {

class LiveFaults;
class PlacesClient;

struct ServerHostConfig {
  NodeConfig node;            // Name, sorted neighbours, seed, link timings, sync.
  int node_index = 0;         // The NodeDriver's index (a trace's node number).
  std::string log_path;
  uint64_t log_max_bytes = 0;  // Past it the log file is rotated (LogWriter); 0: no cap.
  LogLevel log_level = LogLevel::kAll;  // kOff: no file is opened.
  size_t max_clients = 20'000;
  // A client that for this long sends nothing, takes none of its replies and waits for
  // no Places answer is closed ("close c7 idle-timeout"); 0: never.
  uint64_t client_idle_ms = 60'000;
  size_t client_max_line_bytes = 64 * 1024;
  size_t client_max_output_bytes = 4u << 20;
  size_t link_max_queued_bytes = 16u << 20;
  size_t peer_max_line_bytes = 256 * 1024;  // An AT line from a 64 KiB IAMAT, in a sync REC.
  // Lines handled per connection per loop iteration (LineStream): a client's few, so
  // one pipelining client cannot starve the others; a peer's more, since every
  // client update becomes a message on every link.
  size_t client_lines_per_turn = LineStream::kLinesPerTurn;
  size_t peer_lines_per_turn = 1024;
  int listen_backlog = 1024;
  LiveFaults* faults = nullptr;  // The herd's fault layer, if any.
};

class ServerHost final : private LineStream::Handler {
 public:

  ServerHost(uv_loop_t* loop, ServerHostConfig config, PlacesClient* places);
  ~ServerHost() override;
  ServerHost(const ServerHost&) = delete;
  ServerHost& operator=(const ServerHost&) = delete;

  // Opens the log and binds the listener to `address` (port 0: an ephemeral port),
  // and, when given, the peer listener to `peer_address`: then neighbours dial that
  // port instead, and the client port carries only clients (a TA's script that kills
  // whatever holds the client port kills this process alone).
  // Errors: "cannot listen on <addr>: <why>", "cannot open log file <path>: <why>".
  Result<bool> open(const struct sockaddr_storage& address,
                    const struct sockaddr_storage* peer_address = nullptr);
  // Tells the server where neighbour `neighbour` listens for peers.
  void set_peer_address(const std::string& neighbour, const struct sockaddr* address);
  // Every input this server's node is fed, with its effects, goes to `observer`.
  void add_observer(InputObserver* observer) { driver_.add_observer(observer); }
  // The node starts: it dials its neighbours (kStart).
  void start();
  // Stops accepting, closes every connection and timer. Idempotent.
  void close(std::string_view why);

  // Fault requests (see above). REQUIRES: open() succeeded. Ignored while closing.
  void crash();
  Result<bool> restart();  // Errors: "cannot listen on <addr>: <why>" (still crashed).
  void pause();
  void resume();
  void reset_link(const std::string& neighbour);  // Resets the link's connection, if any.
  bool crashed() const { return crashed_; }
  bool paused() const { return paused_; }

  const std::string& name() const { return config_.node.name; }
  int port() const { return listeners_[kClients].port; }  // The bound port, after open().
  int peer_port() const;  // The port neighbours dial: the peer listener's when there is one.
  const std::string& listen_text() const { return listeners_[kClients].text; }
  // "127.0.0.1:13000" when there is a peer listener, else "".
  const std::string& peer_listen_text() const { return listeners_[kPeers].text; }
  bool peer_up(const std::string& neighbour) const;
  size_t clients() const;
  const Node& node() const { return driver_.node(); }
  LogWriter& log() { return log_; }
  // For the status line of the directed link to neighbour `peer` (an index).
  LinkHostView link_view(int peer) const;
  // Called after every peer-up and peer-down (HerdHost waits for its links).
  void set_on_peer_change(std::function<void()> callback) { on_peer_change_ = std::move(callback); }

  // The fault layer's path back: writes a message to a peer connection now; false
  // when the connection is gone (the caller counts it).
  bool write_peer(ConnId conn, Traffic traffic, std::string_view message);
  bool conn_open(ConnId conn) const;

 private:
  struct Flusher;
  enum Role { kClients = 0, kPeers = 1 };
  struct ListenSpec {
    bool wanted = false;
    struct sockaddr_storage address{};  // As bound (its real port), after the first bind.
    int port = 0;
    std::string text;
    std::unique_ptr<Listener> listener;
  };
  struct Conn {
    LineStream* stream = nullptr;
    int peer = -1;              // The link's neighbour, once adopted or dialed.
    int link = -1;              // Its FaultState link id (with a fault layer).
    uint64_t dial_attempt = 0;  // A dial in progress (not yet connected).
    bool peers_only = false;    // Accepted on the peer port.
    bool quiet = false;         // The node knows it is gone (it closed it, or crashed).
    uint64_t lines = 0;
    uint64_t queued = 0;        // Counted messages buffered or being written.
    std::unique_ptr<ClientConn> client;  // While it is a client connection.
  };

  // Listening and accepting (net/server_accept.cc).
  Result<bool> listen();  // Every wanted listener that is not listening.
  Result<bool> listen_one(Role role);
  void close_listeners();
  void on_connection(Role role, int fd);
  void accept_failed(int status, bool backing_off);
  void close_idle_clients();
  uint64_t idle_sweep_ms() const;
  Conn* find(ConnId id);
  const Conn* find(ConnId id) const;
  std::string label(const Conn& conn, ConnId id) const;

  // Feeds the node one input and applies its effects (held back while paused).
  void feed(const Input& in);
  void apply(Effects& effects);
  void apply_reply(Effect& effect);
  void apply_send(Effect& effect);
  void apply_dial(const Effect& effect);
  void apply_timer(const Effect& effect);
  void apply_link(const Effect& effect);
  void start_places(const Effect& effect);
  void on_places_done(ConnId conn, RequestId request, PlacesResult result, int64_t latency_ms);
  void on_timer(TimerId timer);
  void close_everything(const char* why);
  // Counts a link's protocol messages written to the kernel or lost unwritten.
  void count_link(int link, uint64_t written, uint64_t lost);
  // Writes what every peer connection buffered.
  void flush_links();

  // LineStream::Handler.
  void on_line(LineStream* stream, std::string_view line) override;
  void on_batch_end(LineStream* stream) override;
  void on_eof(LineStream* stream) override;
  void on_connected(LineStream* stream, int status) override;
  void on_closed(LineStream* stream) override;
  void on_messages(LineStream* stream, uint64_t written, uint64_t lost) override;
  void on_backpressure(LineStream* stream, bool full) override;

  uv_loop_t* loop_;
  ServerHostConfig config_;
  PlacesClient* places_;
  NodeDriver driver_;
  LogWriter log_;
  ListenSpec listeners_[2];
  Flusher* flusher_ = nullptr;  // uv_prepare + uv_check; freed by their close callbacks.
  std::vector<struct sockaddr_storage> peer_addresses_;  // By peer index.
  std::vector<std::string> last_dial_error_;             // By peer index: logs each change.
  std::vector<std::unique_ptr<Timer>> timers_;           // By TimerId.
  std::unique_ptr<Timer> idle_timer_;    // Sweeps idle clients.
  uint64_t accept_failures_ = 0;         // In the current burst.
  uint64_t resumed_ms_ = 0;              // uv_now() at the last resume: idle counts from it.
  std::map<ConnId, Conn> conns_;
  std::vector<ConnId> unflushed_;  // Peer connections with buffered output.
  // The client line being fed (on_line), so a reply echoing it is known as such.
  ConnId echo_conn_ = 0;
  std::string_view echo_line_;
  uint64_t echo_line_no_ = 0;
  size_t client_count_ = 0;
  ConnId next_conn_ = 1;
  // While paused: inputs held back, in order (bounded: at most one per Places request
  // in flight, dial in progress and connection), and the timers that fired.
  std::vector<std::function<void()>> held_back_;
  std::vector<char> timer_fired_;
  bool closing_ = false;
  bool crashed_ = false;
  bool paused_ = false;
  std::function<void()> on_peer_change_;
};

}  // namespace herd
