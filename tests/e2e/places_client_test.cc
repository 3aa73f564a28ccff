// PlacesClient on a real libuv loop against the Places stand-in over loopback HTTP.
// Every wait is bounded; every test ends by closing the client and the loop, and
// asserts that no handle is left (uv_loop_close returns 0).
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/places_client.h"
#include "tests/e2e/places_standin.h"

using namespace herd;
using herd::e2e::PlacesStandin;
using herd::e2e::StandinReply;
using herd::e2e::StandinRequest;

namespace {

constexpr char kSecretKey[] = "AIza-secret key/+&=";  // Needs URL-encoding on purpose.
constexpr char kBody[] =
    "{\n   \"html_attributions\" : [],\n   \"results\" : [\n      {\n         \"name\" : \"A\"\n"
    "      }\n   ],\n   \"status\" : \"OK\"\n}\n";

PlacesQuery query(int bound = 5, int64_t radius_m = 10000, std::string lat = "34.068930") {
  PlacesQuery q;
  q.lat = std::move(lat);
  q.lng = "-118.445127";
  q.radius_m = radius_m;
  q.bound = bound;
  return q;
}

struct Outcome {
  bool done = false;
  PlacesResult result;
  int64_t latency_ms = -1;
};

// A loop, a stand-in and a client; closes all three in order, even when a REQUIRE
// has thrown out of the test body.
class Fixture {
 public:
  Fixture() { uv_loop_init(&loop_); }
  ~Fixture() { finish(); }

  PlacesStandin standin;

  PlacesClient& start(PlacesConfig config) {
    REQUIRE(standin.ok());
    if (config.url.empty()) {
      config.url = standin.url(config.api == PlacesApi::kNew ? PlacesStandin::kNewPath
                                                             : PlacesStandin::kLegacyPath);
    }
    if (config.key.empty()) config.key = kSecretKey;
    client_ = std::make_unique<PlacesClient>(&loop_, std::move(config));
    return *client_;
  }

  PlacesClient& client() { return *client_; }
  // The test closed the client itself and saw its callback: only the loop is left.
  void forget_closed_client() { client_.reset(); }

  // Runs the loop until `pred` holds or `timeout_ms` passes; returns pred().
  bool run_until(const std::function<bool()>& pred, int timeout_ms) {
    uv_timer_t guard;  // Wakes the loop so that the deadline is checked.
    uv_timer_init(&loop_, &guard);
    uv_timer_start(&guard, [](uv_timer_t*) noexcept {}, 5, 5);
    uint64_t deadline = uv_hrtime() + static_cast<uint64_t>(timeout_ms) * 1'000'000;
    while (!pred() && uv_hrtime() < deadline) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);  // Runs the guard's close.
    return pred();
  }

  void run_for(int ms) {
    run_until([] { return false; }, ms);
  }

  std::shared_ptr<Outcome> fetch(const PlacesQuery& q) {
    auto outcome = std::make_shared<Outcome>();
    client_->fetch(q, [outcome](PlacesResult result, int64_t latency_ms) {
      CHECK_FALSE(outcome->done);
      outcome->done = true;
      outcome->result = std::move(result);
      outcome->latency_ms = latency_ms;
    });
    CHECK_FALSE(outcome->done);  // Never from inside fetch().
    return outcome;
  }

  PlacesResult fetch_one(const PlacesQuery& q, int timeout_ms = 5'000) {
    auto outcome = fetch(q);
    REQUIRE(run_until([&] { return outcome->done; }, timeout_ms));
    return outcome->result;
  }

  // Closes the client, then the loop; true when nothing was left open.
  bool finish() {
    if (finished_) return loop_closed_;
    finished_ = true;
    if (client_ != nullptr) {
      bool closed = false;
      client_->close([&] { closed = true; });
      CHECK_FALSE(closed);  // From the loop, never from inside close().
      CHECK(run_until([&] { return closed; }, 3'000));
      if (closed) client_.reset();
    }
    loop_closed_ = uv_loop_close(&loop_) == 0;
    if (!loop_closed_) {
      // Something leaked: close it so that the process can go on to other tests.
      uv_walk(&loop_, [](uv_handle_t* h, void*) noexcept {
        if (uv_is_closing(h) == 0) uv_close(h, nullptr);
      }, nullptr);
      uv_run(&loop_, UV_RUN_DEFAULT);
      uv_loop_close(&loop_);
    }
    return loop_closed_;
  }

 private:
  uv_loop_t loop_;
  std::unique_ptr<PlacesClient> client_;
  bool finished_ = false;
  bool loop_closed_ = false;
};

// A loopback port with nothing listening on it.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("places client: legacy GET, body passed through, location/radius/key on the wire") {
  Fixture f;
  f.standin.respond(200, kBody);
  f.start({});
  PlacesResult r = f.fetch_one(query());
  CHECK(r.transport_ok);
  CHECK(r.http_status == 200);
  CHECK(r.body == kBody);
  std::vector<StandinRequest> reqs = f.standin.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "GET");
  CHECK(reqs[0].target ==
        "/maps/api/place/nearbysearch/json?location=34.068930,-118.445127&radius=10000"
        "&key=AIza-secret%20key%2F%2B%26%3D");
  CHECK(reqs[0].query_param("location") == "34.068930,-118.445127");
  CHECK(reqs[0].query_param("radius") == "10000");
  CHECK(reqs[0].body.empty());
  CHECK(f.finish());
}

TEST_CASE("places client: New API POST with its headers and body") {
  Fixture f;
  f.standin.respond(200, "{}");
  PlacesConfig config;
  config.api = PlacesApi::kNew;
  f.start(config);
  PlacesResult r = f.fetch_one(query(7));
  CHECK(r.transport_ok);
  CHECK(r.body == "{}");
  std::vector<StandinRequest> reqs = f.standin.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].target == "/v1/places:searchNearby");
  CHECK(reqs[0].header("X-Goog-Api-Key") == kSecretKey);
  CHECK(reqs[0].header("X-Goog-FieldMask") == places_new_field_mask());
  CHECK(reqs[0].header("Content-Type") == "application/json");
  CHECK(reqs[0].header("Expect").empty());
  CHECK(reqs[0].body == places_new_request_body(query(7)));
  CHECK(reqs[0].body ==
        "{\"maxResultCount\":7,\"locationRestriction\":{\"circle\":{\"center\":"
        "{\"latitude\":34.068930,\"longitude\":-118.445127},\"radius\":10000}}}");
  CHECK(f.finish());
}

TEST_CASE("places client: HTTP 500 and a body that is not JSON come back as received") {
  Fixture f;
  f.standin.enqueue(StandinReply::respond(500, "oops"));
  f.standin.enqueue(StandinReply::respond(200, "<html>not json</html>"));
  f.start({});
  PlacesResult r = f.fetch_one(query());
  CHECK(r.transport_ok);
  CHECK(r.http_status == 500);
  CHECK(r.body == "oops");
  r = f.fetch_one(query());
  CHECK(r.transport_ok);
  CHECK(r.http_status == 200);
  CHECK(r.body == "<html>not json</html>");  // Shaping is the node's business.
  CHECK(f.finish());
}

TEST_CASE("places client: a Places that never answers times out") {
  Fixture f;
  f.standin.hang();
  PlacesConfig config;
  config.timeout_ms = 300;
  f.start(config);
  PlacesResult r = f.fetch_one(query(), 5'000);
  CHECK_FALSE(r.transport_ok);
  CHECK(r.failure == "timed out after 300 ms");
  CHECK(f.finish());
}

TEST_CASE("places client: a connection closed mid-answer is a failure") {
  Fixture f;
  f.standin.close_mid_answer();
  f.start({});
  PlacesResult r = f.fetch_one(query());
  CHECK_FALSE(r.transport_ok);
  CHECK(r.failure == "closed the connection mid-answer");
  CHECK(f.finish());
}

TEST_CASE("places client: connection refused") {
  Fixture f;
  PlacesConfig config;
  config.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/maps/api/place/nearbysearch/json";
  f.start(config);
  PlacesResult r = f.fetch_one(query());
  CHECK_FALSE(r.transport_ok);
  CHECK(r.failure == "unreachable: Connection refused");
  CHECK(r.failure.find("secret") == std::string::npos);
  CHECK(f.finish());
}

TEST_CASE("places client: an answer over max_body_bytes is a failure") {
  Fixture f;
  f.standin.respond(200, std::string(1000, ' ') + "{}");
  PlacesConfig config;
  config.max_body_bytes = 100;
  f.start(config);
  PlacesResult r = f.fetch_one(query());
  CHECK_FALSE(r.transport_ok);
  CHECK(r.failure == "answered more than 100 bytes");
  CHECK(f.finish());
}

TEST_CASE("places client: 200 concurrent fetches all complete") {
  Fixture f;
  f.standin.respond(200, kBody, 20);
  f.start({});
  std::vector<std::shared_ptr<Outcome>> outcomes;
  for (int i = 0; i < 200; ++i) outcomes.push_back(f.fetch(query(5, 1000 + i)));
  CHECK(f.client().in_flight() == 200);
  bool all = f.run_until([&] {
    for (auto& o : outcomes) {
      if (!o->done) return false;
    }
    return true;
  }, 20'000);
  REQUIRE(all);
  for (auto& o : outcomes) {
    CHECK(o->result.transport_ok);
    CHECK(o->result.body == kBody);
  }
  CHECK(f.standin.request_count() == 200);
  CHECK(f.client().in_flight() == 0);
  CHECK(f.finish());
}

TEST_CASE("places client: connections are kept alive and reused") {
  Fixture f;
  f.standin.respond(200, kBody);
  f.start({});
  for (int i = 0; i < 5; ++i) {
    PlacesResult r = f.fetch_one(query(5, 1000 + i));
    CHECK(r.transport_ok);
  }
  CHECK(f.standin.request_count() == 5);
  CHECK(f.standin.connection_count() < 5);
  CHECK(f.standin.connection_count() == 1);
  CHECK(f.finish());
  CHECK(f.standin.wait_for_no_connections(2'000));  // close() let the connection go.
}

TEST_CASE("places client: the cache serves repeats without a request") {
  Fixture f;
  f.standin.respond(200, kBody);
  PlacesConfig config;
  config.cache_s = 60;
  f.start(config);
  CHECK(f.fetch_one(query(5)).body == kBody);
  CHECK(f.standin.request_count() == 1);
  PlacesResult hit = f.fetch_one(query(20));  // Legacy: any bound.
  CHECK(hit.transport_ok);
  CHECK(hit.http_status == 200);
  CHECK(hit.body == kBody);
  CHECK(f.standin.request_count() == 1);
  f.fetch_one(query(5, 20000));  // Another radius: another request.
  f.fetch_one(query(5, 10000, "34.06893"));  // Another location text: another request.
  CHECK(f.standin.request_count() == 3);
  CHECK(f.finish());
}

TEST_CASE("places client: New API cache hits only up to the bound it was fetched with") {
  Fixture f;
  f.standin.respond(200, "{}");
  PlacesConfig config;
  config.api = PlacesApi::kNew;
  config.cache_s = 60;
  f.start(config);
  f.fetch_one(query(5));
  f.fetch_one(query(3));
  CHECK(f.standin.request_count() == 1);
  f.fetch_one(query(10));
  CHECK(f.standin.request_count() == 2);
  f.fetch_one(query(10));
  f.fetch_one(query(1));
  CHECK(f.standin.request_count() == 2);
  CHECK(f.finish());
}

TEST_CASE("places client: only 200 answers are cached; entries expire; oldest evicted") {
  Fixture f;
  f.standin.enqueue(StandinReply::respond(500, "oops"));
  f.standin.respond(200, kBody);
  PlacesConfig config;
  config.cache_s = 1;
  config.cache_max_entries = 2;
  f.start(config);
  CHECK(f.fetch_one(query()).http_status == 500);
  CHECK(f.fetch_one(query()).http_status == 200);
  CHECK(f.standin.request_count() == 2);
  f.fetch_one(query(5, 2));
  f.fetch_one(query(5, 3));  // Evicts query(): the oldest.
  CHECK(f.standin.request_count() == 4);
  f.fetch_one(query(5, 3));
  f.fetch_one(query(5, 2));
  CHECK(f.standin.request_count() == 4);
  f.fetch_one(query());
  CHECK(f.standin.request_count() == 5);
  f.run_for(1'100);  // Past cache_s.
  f.fetch_one(query());
  CHECK(f.standin.request_count() == 6);
  CHECK(f.finish());
}

TEST_CASE("places client: past max_in_flight, fetch fails, from the loop") {
  Fixture f;
  f.standin.hang();
  PlacesConfig config;
  config.max_in_flight = 1;
  f.start(config);
  auto first = f.fetch(query());
  PlacesResult r = f.fetch_one(query());
  CHECK_FALSE(r.transport_ok);
  CHECK(r.failure == "not asked: too many requests in flight");
  CHECK_FALSE(first->done);
  CHECK(f.finish());
  CHECK_FALSE(first->done);
}

TEST_CASE("places client: close() with transfers in flight calls no Done and leaves no handle") {
  Fixture f;
  f.standin.hang();
  f.start({});
  std::vector<std::shared_ptr<Outcome>> outcomes;
  for (int i = 0; i < 10; ++i) outcomes.push_back(f.fetch(query(5, 100 + i)));
  CHECK(f.run_until([&] { return f.standin.request_count() >= 10; }, 5'000));
  CHECK(f.client().in_flight() == 10);
  CHECK(f.finish());  // uv_loop_close returned 0.
  for (auto& o : outcomes) CHECK_FALSE(o->done);
  CHECK(f.standin.wait_for_no_connections(2'000));
}

TEST_CASE("places client: a Done may close the client; later Dones are not called") {
  Fixture f;
  f.standin.respond(200, kBody);
  PlacesConfig config;
  config.cache_s = 60;
  f.start(config);
  f.fetch_one(query());  // Cached: the next two are served from the loop in one batch.
  bool closed = false;
  int dones = 0;
  for (int i = 0; i < 2; ++i) {
    f.client().fetch(query(), [&](PlacesResult, int64_t) {
      ++dones;
      f.client().close([&] { closed = true; });
    });
  }
  CHECK(f.run_until([&] { return closed; }, 3'000));
  CHECK(dones == 1);
  REQUIRE(closed);
  f.forget_closed_client();
  CHECK(f.finish());
}

TEST_CASE("places client: a Done may fetch again") {
  Fixture f;
  f.standin.respond(200, kBody);
  f.start({});
  int remaining = 3;
  std::function<void(PlacesResult, int64_t)> again = [&](PlacesResult r, int64_t) {
    CHECK(r.transport_ok);
    if (--remaining > 0) f.client().fetch(query(), again);
  };
  f.client().fetch(query(), again);
  CHECK(f.run_until([&] { return remaining == 0; }, 5'000));
  CHECK(f.standin.request_count() == 3);
  CHECK(f.finish());
}

TEST_CASE("places client: describe() never shows the key") {
  Fixture f;
  f.start({});
  std::string legacy = f.client().describe(query());
  CHECK(legacy == "GET " + f.standin.url() +
                      "?location=34.068930,-118.445127&radius=10000&key=<key>");
  CHECK(legacy.find("secret") == std::string::npos);
  CHECK(f.finish());

  Fixture g;
  PlacesConfig config;
  config.api = PlacesApi::kNew;
  g.start(config);
  std::string post = g.client().describe(query());
  CHECK(post == "POST " + g.standin.url(PlacesStandin::kNewPath) + " " + places_new_request_body(query()));
  CHECK(post.find("secret") == std::string::npos);
  CHECK(g.finish());
}
