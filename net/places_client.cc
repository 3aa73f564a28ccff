// PlacesClient: libcurl's multi-socket interface on the caller's libuv loop, after
// curl's multi-uv example. curl tells us which sockets to watch (on_socket) and when
// to wake it (on_curl_timer); libuv tells curl what happened (on_poll, on_timeout);
// after every such call the finished transfers are drained (check_multi_info).
// Connections stay in the multi handle's connection cache and are reused.
#include "node/check.h"
#include "net/places_client.h"

#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <string>
#include <utility>

#include "net/places_cache.h"
#include "net/places_failure.h"

namespace herd {
namespace {

constexpr char kLegacyUrl[] = "https://maps.googleapis.com/maps/api/place/nearbysearch/json";
constexpr char kNewUrl[] = "https://places.googleapis.com/v1/places:searchNearby";

void global_init_once() {
  // curl_global_init is not thread-safe and must run once per process; a function-
  // local static is initialized exactly once.
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!ok) {
    std::fputs("herd: curl_global_init failed\n", stderr);
    std::abort();
  }
}

// One HTTP request in flight. Owned by Impl::transfers_; its easy handle points back
// at it through CURLOPT_PRIVATE.
struct Transfer {
  uint64_t id = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string post_body;  // curl reads it in place (CURLOPT_POSTFIELDS): must outlive the transfer.
  std::string body;
  size_t max_body_bytes = 0;
  bool too_big = false;
  PlacesCacheKey key;
  int bound = 0;
  uint64_t start_ns = 0;
  PlacesClient::Done done;
};

}  // namespace

struct PlacesClient::Impl {
  // One watched socket: a heap object freed in its close callback.
  struct Poll {
    uv_poll_t handle;
    curl_socket_t fd;
    Impl* impl;
  };
  struct Deferred {
    Done done;
    PlacesResult result;
  };

  Impl(uv_loop_t* l, PlacesConfig c)
      : loop(l), config(std::move(c)), cache(config.cache_s * 1000, config.cache_max_entries) {
    global_init_once();
    url = !config.url.empty() ? config.url : config.api == PlacesApi::kNew ? kNewUrl : kLegacyUrl;
    multi = curl_multi_init();
    HERD_ASSERT(multi != nullptr);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::on_curl_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(config.max_connections));
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(config.max_connections));
    curl_timer = new_timer();
    defer_timer = new_timer();
  }

  uv_timer_t* new_timer() {
    auto* timer = new uv_timer_t;
    int rc = uv_timer_init(loop, timer);
    HERD_ASSERT(rc == 0);
    (void)rc;
    timer->data = this;
    ++open_handles;
    return timer;
  }

  // --- Requests -------------------------------------------------------------------

  void fetch(const PlacesQuery& query, Done done) {
    HERD_ASSERT(!closing && "fetch after close");
    PlacesCacheKey key{config.api, query.lat, query.lng, query.radius_m};
    if (const PlacesResult* hit = cache.find(key, query.bound, uv_now(loop))) {
      defer(std::move(done), *hit);
      return;
    }
    if (transfers.size() >= config.max_in_flight) {
      PlacesResult failure;
      failure.failure = "not asked: too many requests in flight";
      defer(std::move(done), std::move(failure));
      return;
    }
    auto t = std::make_unique<Transfer>();
    t->id = next_id++;
    t->key = std::move(key);
    t->bound = query.bound;
    t->max_body_bytes = config.max_body_bytes;
    t->start_ns = uv_hrtime();
    t->done = std::move(done);
    t->easy = make_easy(query, t.get());
    CURLMcode rc = curl_multi_add_handle(multi, t->easy);
    if (rc != CURLM_OK) {
      PlacesResult failure;
      failure.failure = std::string("failed: ") + curl_multi_strerror(rc);
      Done d = std::move(t->done);
      free_transfer(t.get());
      defer(std::move(d), std::move(failure));
      return;
    }
    transfers.emplace(t->id, std::move(t));
  }

  CURL* make_easy(const PlacesQuery& query, Transfer* t) {
    CURL* e = curl_easy_init();
    HERD_ASSERT(e != nullptr);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // Signals would hit the whole herd.
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(config.timeout_ms));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config.connect_timeout_ms));
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(config.max_body_bytes));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "herd");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // Whatever curl can decode.
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (config.api == PlacesApi::kLegacy) {
      std::string full = places_legacy_url(url, query, config.key);
      curl_easy_setopt(e, CURLOPT_URL, full.c_str());  // curl copies strings it is given.
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
      return e;
    }
    t->post_body = places_new_request_body(query);
    t->headers = curl_slist_append(t->headers, ("X-Goog-Api-Key: " + config.key).c_str());
    t->headers = curl_slist_append(
        t->headers, ("X-Goog-FieldMask: " + std::string(places_new_field_mask())).c_str());
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    t->headers = curl_slist_append(t->headers, "Expect:");  // No 100-continue round trip.
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->post_body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->post_body.size()));
    return e;
  }

  static void free_transfer(Transfer* t) {
    curl_easy_cleanup(t->easy);
    t->easy = nullptr;
    curl_slist_free_all(t->headers);
    t->headers = nullptr;
  }

  // Drains finished transfers. A Done may call fetch() or close(): the loop re-checks.
  void check_multi_info() {
    int left = 0;
    while (!closing) {
      CURLMsg* msg = curl_multi_info_read(multi, &left);
      if (msg == nullptr) break;
      if (msg->msg != CURLMSG_DONE) continue;
      finish(msg->easy_handle, msg->data.result);  // msg is invalid from here on.
    }
  }

  void finish(CURL* easy, CURLcode code) {
    Transfer* raw = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
    HERD_ASSERT(raw != nullptr);
    auto it = transfers.find(raw->id);
    HERD_ASSERT(it != transfers.end());
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers.erase(it);
    curl_multi_remove_handle(multi, easy);
    PlacesResult result = outcome(*t, code);
    if (result.transport_ok && result.http_status == 200) {
      cache.store(t->key, t->bound, result, uv_now(loop));
    }
    auto latency_ms = static_cast<int64_t>((uv_hrtime() - t->start_ns) / 1'000'000);
    free_transfer(t.get());
    Done done = std::move(t->done);
    t.reset();
    done(std::move(result), latency_ms);  // Last: it may close this client.
  }

  PlacesResult outcome(Transfer& t, CURLcode code) const {
    PlacesResult r;
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
      r.transport_ok = true;
      r.http_status = static_cast<int>(status);
      r.body = std::move(t.body);
      return r;
    }
    r.failure = places_failure_reason(t.easy, code, t.too_big, config);
    // Belt and braces: no reason may carry the key, whatever curl put in it.
    mask_places_key(&r.failure, config.key);
    return r;
  }

  // --- Deferred completions (cache hits, refusals): never from inside fetch() -------

  void defer(Done done, PlacesResult result) {
    deferred.push_back({std::move(done), std::move(result)});
    if (uv_is_active(reinterpret_cast<uv_handle_t*>(defer_timer)) == 0) {
      uv_timer_start(defer_timer, &Impl::on_defer, 0, 0);
    }
  }

  static void on_defer(uv_timer_t* timer) noexcept {
    auto* self = static_cast<Impl*>(timer->data);
    std::deque<Deferred> batch;
    batch.swap(self->deferred);
    for (Deferred& d : batch) {
      if (self->closing) return;  // close() drops what is owed.
      d.done(std::move(d.result), 0);
    }
  }

  // --- curl <-> libuv -----------------------------------------------------------

  static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void* socketp) noexcept {
    auto* self = static_cast<Impl*>(userp);
    auto* poll = static_cast<Poll*>(socketp);
    if (what == CURL_POLL_REMOVE) {
      // curl calls this before it closes the socket, so the poll never sees a dead fd.
      if (poll != nullptr) self->close_poll(poll);
      return 0;
    }
    if (poll == nullptr) {
      poll = new Poll{{}, fd, self};
      if (uv_poll_init_socket(self->loop, &poll->handle, fd) != 0) {
        delete poll;
        return -1;
      }
      poll->handle.data = poll;
      ++self->open_handles;
      self->polls.emplace(fd, poll);
      curl_multi_assign(self->multi, fd, poll);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
    uv_poll_start(&poll->handle, events, &Impl::on_poll);
    return 0;
  }

  void close_poll(Poll* poll) {
    polls.erase(poll->fd);
    uv_poll_stop(&poll->handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&poll->handle), [](uv_handle_t* h) noexcept {
      auto* p = static_cast<Poll*>(h->data);
      Impl* self = p->impl;
      delete p;
      self->handle_closed();
    });
  }

  static void on_poll(uv_poll_t* handle, int status, int events) noexcept {
    auto* poll = static_cast<Poll*>(handle->data);
    Impl* self = poll->impl;
    if (self->multi == nullptr) return;
    int flags = 0;
    if (status < 0) {
      flags = CURL_CSELECT_ERR;
    } else {
      if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
      if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    }
    int running = 0;
    curl_multi_socket_action(self->multi, poll->fd, flags, &running);  // May close `poll`.
    self->check_multi_info();
  }

  static int on_curl_timer(CURLM*, long timeout_ms, void* userp) noexcept {
    auto* self = static_cast<Impl*>(userp);
    // curl forbids calling it back from here; a 0 ms timer runs it from the loop.
    if (timeout_ms < 0) {
      uv_timer_stop(self->curl_timer);
    } else {
      uv_timer_start(self->curl_timer, &Impl::on_timeout, static_cast<uint64_t>(timeout_ms), 0);
    }
    return 0;
  }

  static void on_timeout(uv_timer_t* timer) noexcept {
    auto* self = static_cast<Impl*>(timer->data);
    if (self->multi == nullptr) return;
    int running = 0;
    curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    self->check_multi_info();
  }

  static size_t on_write(char* data, size_t size, size_t count, void* userp) noexcept {
    auto* t = static_cast<Transfer*>(userp);
    size_t n = size * count;
    if (t->body.size() + n > t->max_body_bytes) {
      t->too_big = true;
      return 0;  // Fewer bytes than offered: curl ends the transfer with CURLE_WRITE_ERROR.
    }
    t->body.append(data, n);
    return n;
  }

  // --- Closing --------------------------------------------------------------------

  void close(std::function<void()> cb) {
    HERD_ASSERT(!closing && "close called twice");
    closing = true;
    closed = std::move(cb);
    deferred.clear();
    uv_timer_stop(defer_timer);
    for (auto& [id, t] : transfers) {
      curl_multi_remove_handle(multi, t->easy);  // May call on_socket(REMOVE).
      free_transfer(t.get());
    }
    transfers.clear();
    curl_multi_cleanup(multi);  // Before the timer closes: it may call on_curl_timer.
    multi = nullptr;
    while (!polls.empty()) close_poll(polls.begin()->second);
    for (uv_timer_t* timer : {curl_timer, defer_timer}) {
      uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* h) noexcept {
        Impl* self = static_cast<Impl*>(h->data);
        delete reinterpret_cast<uv_timer_t*>(h);
        self->handle_closed();
      });
    }
  }

  void handle_closed() {
    HERD_ASSERT(open_handles > 0);
    if (--open_handles > 0 || !closing) return;
    done_closing = true;
    std::function<void()> cb = std::move(closed);
    if (cb) cb();  // Last: the owner may destroy the client from here.
  }

  uv_loop_t* loop;
  PlacesConfig config;
  std::string url;
  CURLM* multi = nullptr;
  uv_timer_t* curl_timer = nullptr;
  uv_timer_t* defer_timer = nullptr;
  std::map<uint64_t, std::unique_ptr<Transfer>> transfers;  // By id: a stable order.
  uint64_t next_id = 1;
  std::deque<Deferred> deferred;
  std::map<curl_socket_t, Poll*> polls;
  PlacesCache cache;
  int open_handles = 0;
  bool closing = false;
  bool done_closing = false;
  std::function<void()> closed;
};

PlacesClient::PlacesClient(uv_loop_t* loop, PlacesConfig config)
    : impl_(std::make_unique<Impl>(loop, std::move(config))) {}

PlacesClient::~PlacesClient() { HERD_ASSERT(impl_->done_closing && "PlacesClient destroyed before close() completed"); }

void PlacesClient::fetch(const PlacesQuery& query, Done done) { impl_->fetch(query, std::move(done)); }

std::string PlacesClient::describe(const PlacesQuery& query) const {
  if (impl_->config.api == PlacesApi::kLegacy) {
    return "GET " + places_legacy_url(impl_->url, query, "") + "<key>";
  }
  return "POST " + impl_->url + " " + places_new_request_body(query);
}

void PlacesClient::close(std::function<void()> closed) { impl_->close(std::move(closed)); }

size_t PlacesClient::in_flight() const { return impl_->transfers.size() + impl_->deferred.size(); }

}  // namespace herd
