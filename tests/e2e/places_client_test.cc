// PlacesClient on a real libuv loop against the Places stand-in over loopback HTTP: the
// wire, failures, concurrency and connection reuse (the cache and closing are in
// places_client_cache_test.cc and places_client_close_test.cc).
// Every wait is bounded; every test ends by closing the client and the loop, and
// asserts that no handle is left (uv_loop_close returns 0).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/places_client_fixture.h"

using namespace herd;
using namespace herd::e2e::places_client_test;  // Fixture, query(), the stand-in.

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
