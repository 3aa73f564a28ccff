// One herd server on the live loop: a TCP listener, a herd::Node core, a log file
// and a PeerLink per neighbour. It feeds the core every input (client lines, peer
// messages, Places results, link changes) with the live clock and applies the
// effects in the order the core gave them: kSendPeer to the link, kReply to the
// client's reply queue, kPlacesRequest to the PlacesClient, kLog to the log. A
// connection whose first line is a neighbour's hello is handed to that PeerLink.
//
// Peer messages are buffered per link (PeerLink::send) and written once per batch:
// at the end of each client read batch the links are flushed before that batch's
// replies are written (a newer record is flooded before the reply), before any
// reply written outside a batch (Places), and once per loop iteration by a
// uv_check (after I/O callbacks) and a uv_prepare (after timers, before polling).
// Each core call reuses an effect list (EffectsScope).
//
// Fault injection (net/live_faults.h) wraps each PeerLink's send path (wrap_link)
// and can crash the server: crash() closes the listener and every connection,
// clients' and peers', suspends the links and loses the core's memory
// (Node::crash()); restart() listens again on the same address (the same port, also
// when it was ephemeral) and resumes the links, which reconnect as usual.
//
// Owns its ClientConns, PeerLinks and LogWriter; its listener handle is freed in its
// close callback, its streams free themselves. REQUIRES: the ServerHost outlives
// the loop's last callback for it: call close(), run the loop until it is empty,
// then destroy it. The PlacesClient is shared and must outlive the server's use of it.
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
#include "net/log_writer.h"
#include "net/peer_link.h"
#include "node/node.h"
#include "node/input_observer.h"
#include "node/result.h"

namespace herd {

class PlacesClient;

struct ServerHostConfig {
  std::string name;
  std::vector<std::string> neighbours;        // Sorted, unique.
  std::string log_path;
  PlacesApi places_api = PlacesApi::kLegacy;
  size_t max_clients = 20'000;
  size_t client_max_line_bytes = 64 * 1024;
  size_t client_max_output_bytes = 4u << 20;
  size_t link_max_queued_bytes = 16u << 20;
  int listen_backlog = 1024;
  // When set, kSendPeer goes through wrap_link(peer, that peer's PeerLink) instead of
  // the PeerLink itself: the seam for a fault-injecting decorator (node/faulty_link.h).
  // Called from the constructor; the PeerLink outlives the returned Link.
  std::function<std::unique_ptr<Link>(int peer, PeerLink* inner)> wrap_link;
};

class ServerHost final : private LineStream::Handler, private PeerLink::Events {
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
  // Tells the link to `neighbour` where to dial (before start_peers()).
  void set_peer_address(const std::string& neighbour, const struct sockaddr* address);
  void start_peers();
  // Every input this server's node is fed, with its effects, goes to `observer`
  // (a trace recorder) as input number `node_index` of its trace; null stops it.
  void set_observer(InputObserver* observer, int node_index) {
    observer_ = observer;
    node_index_ = node_index;
  }
  // Stops accepting, closes every connection, link and timer. Idempotent.
  void close(std::string_view why);

  // A simulated crash (see above). REQUIRES: open() succeeded. Ignored while closing
  // or already crashed.
  void crash();
  // Errors: "cannot listen on <addr>: <why>" (the server stays crashed).
  Result<bool> restart();
  bool crashed() const { return crashed_; }

  const std::string& name() const { return config_.name; }
  int port() const { return listeners_[kClients].port; }  // The bound port, after open().
  // The port neighbours dial: the peer listener's when there is one.
  int peer_port() const;
  const std::string& listen_text() const { return listeners_[kClients].text; }
  // "127.0.0.1:13000" when there is a peer listener, else "".
  const std::string& peer_listen_text() const { return listeners_[kPeers].text; }
  bool peer_up(const std::string& neighbour) const;
  size_t clients() const { return clients_.size(); }
  const Node& node() const { return node_; }
  LogWriter& log() { return log_; }
  // Called after every peer-up and peer-down (HerdHost waits for its links).
  void set_on_peer_change(std::function<void()> callback) { on_peer_change_ = std::move(callback); }

 private:
  struct Listener;
  struct Flusher;
  enum Role { kClients = 0, kPeers = 1 };
  struct ListenSpec {
    bool wanted = false;
    struct sockaddr_storage address{};  // As bound (its real port), after the first bind.
    int port = 0;
    std::string text;
    Listener* handle = nullptr;  // Freed by its close callback.
  };
  class EffectsScope;
  static void connection_cb(uv_stream_t* server, int status) noexcept;
  static void listener_close_cb(uv_handle_t* handle) noexcept;
  Result<bool> listen();
  Result<bool> listen_one(Role role);
  void close_listeners();
  void on_connection(Role role, int status);
  bool adopt_if_peer(LineStream* stream, std::string_view line);
  ClientConn* find_client(ConnId id) const;
  void apply(Effects* effects);
  // Writes what every link buffered (PeerLink::flush).
  void flush_links();
  // Reports one node input to the observer, if any (the trace of a live run).
  void observe(TraceInput input, const Effects& effects);
  void apply_reply(Effect& effect);
  void start_places(const Effect& effect);
  void on_places_done(ConnId conn, RequestId request, const PlacesResult& result,
                      int64_t latency_ms);

  // LineStream::Handler: client connections.
  void on_line(LineStream* stream, std::string_view line) override;
  void on_batch_end(LineStream* stream) override;
  void on_eof(LineStream* stream) override;
  void on_closed(LineStream* stream) override;
  // PeerLink::Events.
  void on_peer_up(int index) override;
  void on_peer_down(int index) override;
  void on_peer_message(int index, std::string_view message) override;

  uv_loop_t* loop_;
  ServerHostConfig config_;
  PlacesClient* places_;
  Node node_;
  InputObserver* observer_ = nullptr;
  int node_index_ = 0;
  LogWriter log_;
  ListenSpec listeners_[2];
  Flusher* flusher_ = nullptr;    // uv_prepare + uv_check; freed by their close callbacks.
  // Reused effect lists, one per nesting level of core calls (a Places failure may
  // call back while effects are applied).
  std::vector<std::unique_ptr<Effects>> effects_pool_;
  size_t effects_depth_ = 0;
  std::vector<std::unique_ptr<PeerLink>> peers_;  // Index = the core's peer index.
  std::vector<std::unique_ptr<Link>> wrapped_;    // From wrap_link, when set.
  std::vector<Link*> send_links_;                 // Where kSendPeer goes, per peer.
  std::map<ConnId, std::unique_ptr<ClientConn>> clients_;
  ConnId next_conn_ = 1;
  bool closing_ = false;
  bool crashed_ = false;
  std::function<void()> on_peer_change_;
};

}  // namespace herd
