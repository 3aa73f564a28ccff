// PlacesClient on a real libuv loop against the Places stand-in over loopback HTTP:
// limits, closing, and Done callbacks that close or fetch again. Every wait is bounded;
// every test ends by closing the client and the loop, and asserts that no handle is
// left (uv_loop_close returns 0).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/places_client_fixture.h"

using namespace herd;
using namespace herd::e2e::places_client_test;  // Fixture, query(), the stand-in.

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
