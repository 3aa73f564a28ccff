// A Places stand-in for tests: a real HTTP/1.1 server on 127.0.0.1 (port 0), served
// by its own thread with plain sockets and poll(), so it answers whether or not the
// test's own loop is running. Point a PlacesClient, or a herd started as a separate
// process (--places-url), at url().
//
// Behaviour is scripted: one-shot replies queued with enqueue() are used first, in
// order; then the handler, when set; then the default (respond(), hang(),
// close_mid_answer()). Connections are kept alive unless a request or
// set_keep_alive(false) says otherwise. Every request is recorded for assertions.
// Every wait is bounded; the destructor stops the thread and closes every socket.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace herd::e2e {

struct StandinRequest {
  uint64_t connection = 0;  // 1, 2, ... in accept order: equal means a reused connection.
  std::string method;
  std::string target;       // "/maps/api/place/nearbysearch/json?location=..."
  std::string version;      // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // As received, in order.
  std::string body;

  // The first header named `name` (case-insensitive), without surrounding space; ""
  // when absent.
  std::string header(std::string_view name) const;
  // The value of query parameter `name` in target, as sent (not decoded); "" if absent.
  std::string query_param(std::string_view name) const;
};

struct StandinReply {
  enum class Kind : uint8_t {
    kRespond,         // status + body, with Content-Length.
    kHang,            // Never answer; the connection stays open until the client leaves.
    kCloseMidAnswer,  // Headers promising 100 bytes more than `body`, `body`, then close.
  };
  Kind kind = Kind::kRespond;
  int status = 200;
  std::string body;
  int delay_ms = 0;  // kRespond / kCloseMidAnswer: wait this long before answering.

  static StandinReply respond(int status, std::string body, int delay_ms = 0);
  static StandinReply hang();
  static StandinReply close_mid_answer(std::string body = "{\"results\" : [ {\"name\" : \"half");
};

class PlacesStandin {
 public:
  static constexpr std::string_view kLegacyPath = "/maps/api/place/nearbysearch/json";
  static constexpr std::string_view kNewPath = "/v1/places:searchNearby";

  // Binds 127.0.0.1:0 and starts serving; check ok() (error() says why not).
  // The default behaviour answers 200 with a ZERO_RESULTS legacy body.
  PlacesStandin();
  ~PlacesStandin();
  PlacesStandin(const PlacesStandin&) = delete;
  PlacesStandin& operator=(const PlacesStandin&) = delete;

  bool ok() const { return listen_fd_ >= 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string url(std::string_view path = kLegacyPath) const;

  // The default behaviour, for every request not served by the queue or the handler.
  void respond(int status, std::string body, int delay_ms = 0);
  void hang();
  void close_mid_answer(std::string body = StandinReply::close_mid_answer().body);
  // One-shot replies, used in order before anything else.
  void enqueue(StandinReply reply);
  // Chooses the reply from the request; runs on the stand-in's thread. Empty: none.
  void set_handler(std::function<StandinReply(const StandinRequest&)> handler);
  // false: every reply says "Connection: close" and the connection is closed after it.
  void set_keep_alive(bool keep_alive);

  std::vector<StandinRequest> requests() const;
  size_t request_count() const;
  size_t connection_count() const;  // Connections accepted so far.
  size_t open_connections() const;  // Connections open now.
  // Waits until at least `n` requests have arrived; false after timeout_ms.
  bool wait_for_requests(size_t n, int timeout_ms) const;
  // Waits until no connection is open; false after timeout_ms.
  bool wait_for_no_connections(int timeout_ms) const;

 private:
  struct Conn;
  using Conns = std::vector<std::unique_ptr<Conn>>;
  // The thread's body and its parts; only the thread touches Conns.
  void serve();
  void accept_all(Conns* conns, uint64_t* next_id);
  void read_from(Conn& c);
  void pump(Conn& c);
  bool answer_next(Conn& c);
  StandinReply choose(const StandinRequest& request);

  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // A self-pipe: the destructor wakes poll() with it.
  int port_ = 0;
  std::string error_;
  std::thread thread_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  // Guarded by mu_:
  bool stop_ = false;
  StandinReply default_reply_;
  std::deque<StandinReply> queue_;
  std::function<StandinReply(const StandinRequest&)> handler_;
  bool keep_alive_ = true;
  std::vector<StandinRequest> requests_;
  size_t connections_accepted_ = 0;
  size_t connections_open_ = 0;
};

}  // namespace herd::e2e
