// Places Nearby Search over HTTP(S) with libcurl's multi-socket interface, driven by
// the herd's libuv loop: no threads, no blocking calls. Connections are reused.
// Owns its curl multi handle, its timer and one uv_poll per socket; call close()
// and wait for its callback before the loop is closed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "node/effects.h"
#include "node/places.h"

namespace herd {

struct PlacesConfig {
  PlacesApi api = PlacesApi::kLegacy;
  std::string url;                     // Empty: Google's endpoint for `api`.
  std::string key;                     // GOOGLE_API_KEY; never logged or echoed.
  int64_t timeout_ms = 10'000;         // Whole transfer.
  int64_t connect_timeout_ms = 3'000;
  size_t max_body_bytes = 4u << 20;    // A longer answer is a failure, not a crash.
  size_t max_in_flight = 10'000;       // Past it, fetch fails at once ("too many requests").
  // Connections at most (their descriptors count in the herd's budget, net/fd_budget.h);
  // requests past it wait in curl for a free one (within timeout_ms).
  size_t max_connections = 256;
  int64_t cache_s = 0;                 // --places-cache-s: 0 is off.
  size_t cache_max_entries = 10'000;
};

class PlacesClient {
 public:
  // `result` and the request's latency. Called exactly once per fetch, always from
  // the loop and never from inside fetch(); never after close() was called.
  using Done = std::function<void(PlacesResult result, int64_t latency_ms)>;

  PlacesClient(uv_loop_t* loop, PlacesConfig config);
  ~PlacesClient();  // REQUIRES: close() has completed.
  PlacesClient(const PlacesClient&) = delete;
  PlacesClient& operator=(const PlacesClient&) = delete;

  void fetch(const PlacesQuery& query, Done done);

  // What a log line may say about a request: method, URL and body without the key.
  std::string describe(const PlacesQuery& query) const;

  // Abandons transfers in flight (their Done is not called), then calls `closed`
  // from the loop once every handle is closed.
  void close(std::function<void()> closed);

  size_t in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herd
