// PlacesClient on a real libuv loop against the Places stand-in over loopback HTTP:
// the cache. Every wait is bounded; every test ends by closing the client and the
// loop, and asserts that no handle is left (uv_loop_close returns 0).
#include <doctest/doctest.h>

#include <string>

#include "tests/e2e/places_client_fixture.h"

using namespace herd;
using namespace herd::e2e::places_client_test;  // Fixture, query(), the stand-in.

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
