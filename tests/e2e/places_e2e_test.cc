// End-to-end, issue 3: WHATSAT through `herd run` (the real binary, a child process)
// against the Places stand-in served over real HTTP on loopback: the answers. Every
// reply is checked byte for byte against PROTOCOL.md, every request the herd sent is
// checked on the wire, and the API key is looked for everywhere it must not be.
// Failures are in places_e2e_failure_test.cc, concurrency in places_e2e_load_test.cc;
// the bodies and helpers they share in places_e2e_util.h.
//
// Every wait is bounded; every herd is stopped (HerdProcess's destructor); only
// 127.0.0.1. Each test takes about 1 s.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "node/places.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/places_e2e_util.h"
#include "tests/e2e/places_standin.h"

namespace herd::e2e::places_e2e {
namespace {

TEST_CASE("e2e places: legacy page of 25 with blank lines, cut to the bound and folded; "
          "location, metres and key on the wire") {
  PlacesStandin standin;
  standin.respond(200, google_page());
  HerdRun run;
  start_herd(run, standin);
  CHECK(run.herd.output().find("GOOGLE_API_KEY") == std::string::npos);  // Set: no warning.
  std::string at = report(run, "Riley");

  struct Ask {
    std::string radius, metres;
    int bound;
  };
  // Metres are rounded from the decimal text (half up), never below 1.
  std::vector<Ask> asks = {{"10", "10000", 5},  {"1.5", "1500", 1},      {"50", "50000", 20},
                           {"0.001", "1", 3},   {"7.25", "7250", 19},    {"2.5005", "2501", 4},
                           {"0.0001", "1", 2},  {"49.9995", "50000", 6}};
  std::vector<std::string> replies;
  for (size_t i = 0; i < asks.size(); ++i) {
    const Ask& a = asks[i];
    CAPTURE(a.radius);
    CAPTURE(a.bound);
    std::string reply = whatsat(run, "Riley", a.radius, a.bound);
    replies.push_back(reply);
    CHECK(reply == reply_of(at, folded_page(a.bound)));
    CHECK(body_of(reply) == places_reply_body(PlacesApi::kLegacy, ok_result(google_page()), a.bound));
    check_page_literals(body_of(reply), a.bound);
    REQUIRE(standin.request_count() == i + 1);
    check_legacy_request(standin.requests()[i], kLocation, a.metres);
  }

  // Other digit counts and signs: the stored digits, '+' dropped, nothing re-rendered.
  struct Where {
    std::string id, loc, location;
  };
  for (const Where& w : {Where{"sydney", "-33.8670522+151.1957362", "-33.8670522,151.1957362"},
                         Where{"short", "+34.5-118", "34.5,-118"},
                         Where{"zeros", "+00.000100-000.50", "00.000100,-000.50"}}) {
    CAPTURE(w.loc);
    std::string at_w = report(run, "Juzang", w.id, w.loc);
    size_t before = standin.request_count();
    std::string reply = whatsat(run, "Juzang", "2", 2, w.id);
    CHECK(reply == reply_of(at_w, folded_page(2)));
    REQUIRE(standin.request_count() == before + 1);
    check_legacy_request(standin.requests()[before], w.location, "2000");
  }

  // Fewer results than the bound: all of them, folded.
  standin.enqueue(StandinReply::respond(200, with_blank_lines(legacy_page(3))));
  CHECK(whatsat(run, "Riley", "10", 20) == reply_of(at, folded_page(3)));

  // The whole reply comes in one write: a client that reads once gets all of it.
  Client once;
  REQUIRE(once.connect(run.port("Riley")));
  REQUIRE(once.send("WHATSAT " + std::string(kId) + " 10 20\n"));
  pollfd p{once.fd(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5'000) == 1);
  std::string buf(1 << 20, '\0');
  ssize_t n = ::recv(once.fd(), buf.data(), buf.size(), 0);
  REQUIRE(n > 0);
  buf.resize(static_cast<size_t>(n));
  CHECK(buf == reply_of(at, folded_page(20)));
  stop_and_check_no_key(run, replies, "radius=7250");
}

TEST_CASE("e2e places: WHATSAT at any server for a client that reported at another") {
  PlacesStandin standin;
  standin.respond(200, google_page());
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Riley");
  // Bernard is two hops from Riley, Campbell three (or two through Juzang).
  for (const std::string server : {"Bernard", "Campbell", "Jaquez", "Juzang", "Riley"}) {
    CAPTURE(server);
    REQUIRE(wait_known(run, server, at, "10"));
    size_t before = standin.request_count();
    std::string reply = whatsat(run, server, "3", 4);
    CHECK(reply == reply_of(at, folded_page(4)));
    check_page_literals(body_of(reply), 4);
    REQUIRE(standin.request_count() == before + 1);
    check_legacy_request(standin.requests()[before], kLocation, "3000");
  }
  // And the other way round: reported at Campbell, asked at Riley.
  std::string at_c = report(run, "Campbell", "lemon", "+37.4219999-122.0840575");
  REQUIRE(wait_known(run, "Riley", at_c, "10", "lemon"));
  CHECK(at_c.rfind("AT Campbell ", 0) == 0);
  size_t before = standin.request_count();
  CHECK(whatsat(run, "Riley", "10", 20, "lemon") == reply_of(at_c, folded_page(20)));
  REQUIRE(standin.request_count() == before + 1);
  check_legacy_request(standin.requests()[before], "37.4219999,-122.0840575", "10000");
  stop_and_check_no_key(run, {}, "radius=3000");
}

// Places API (New): three places (one with only a formattedAddress); the herd asks
// for `bound` and maps what it gets to the legacy shape.
const std::string kNewAnswer = R"({
  "places": [
    {
      "id": "ChIJ-new-1",
      "types": ["cafe", "food"],
      "formattedAddress": "308 Westwood Plaza, Los Angeles, CA 90095, USA",
      "shortFormattedAddress": "308 Westwood Plaza, Los Angeles",
      "location": {"latitude": 34.0705, "longitude": -118.4468},
      "rating": 4.5,
      "displayName": {"text": "Kerckhoff Coffee", "languageCode": "en"}
    },
    {
      "id": "ChIJ-new-2",
      "types": ["library"],
      "formattedAddress": "Powell Library, Los Angeles, CA 90095, USA",
      "location": {"latitude": 34.0716, "longitude": -118.4422},
      "displayName": {"text": "Powell Library", "languageCode": "en"}
    },
    {
      "id": "ChIJ-new-3",
      "displayName": {"text": "Third", "languageCode": "en"},
      "location": {"latitude": 34.07, "longitude": -118.44}
    }
  ]
}
)";

const std::string kNewMapped =
    "{\n"
    "   \"html_attributions\": [],\n"
    "   \"results\": [\n"
    "      {\n"
    "         \"geometry\": {\n"
    "            \"location\": {\n"
    "               \"lat\": 34.0705,\n"
    "               \"lng\": -118.4468\n"
    "            }\n"
    "         },\n"
    "         \"name\": \"Kerckhoff Coffee\",\n"
    "         \"place_id\": \"ChIJ-new-1\",\n"
    "         \"rating\": 4.5,\n"
    "         \"types\": [\n"
    "            \"cafe\",\n"
    "            \"food\"\n"
    "         ],\n"
    "         \"vicinity\": \"308 Westwood Plaza, Los Angeles\"\n"
    "      },\n"
    "      {\n"
    "         \"geometry\": {\n"
    "            \"location\": {\n"
    "               \"lat\": 34.0716,\n"
    "               \"lng\": -118.4422\n"
    "            }\n"
    "         },\n"
    "         \"name\": \"Powell Library\",\n"
    "         \"place_id\": \"ChIJ-new-2\",\n"
    "         \"types\": [\n"
    "            \"library\"\n"
    "         ],\n"
    "         \"vicinity\": \"Powell Library, Los Angeles, CA 90095, USA\"\n"
    "      }\n"
    "   ],\n"
    "   \"status\": \"OK\"\n"
    "}";

TEST_CASE("e2e places: Places API (New): POST with key and field mask, answer in the legacy shape") {
  PlacesStandin standin;
  standin.enqueue(StandinReply::respond(200, kNewAnswer));
  standin.enqueue(StandinReply::respond(
      403, R"({"error": {"code": 403, "message": "API key not valid. Please pass a valid API key.",)"
           R"( "status": "PERMISSION_DENIED"}})"));
  standin.enqueue(StandinReply::respond(200, "{}\n"));
  HerdRun run;
  start_herd(run, standin, {}, std::string(kKey), /*new_api=*/true);
  std::string at = report(run, "Riley");

  std::vector<std::string> replies;
  replies.push_back(whatsat(run, "Riley", "10", 2));
  CHECK(replies[0] == reply_of(at, kNewMapped));
  CHECK(body_of(replies[0]) == places_reply_body(PlacesApi::kNew, ok_result(kNewAnswer), 2));
  CHECK(body_of(replies[0]).find("\"Third\"") == std::string::npos);
  REQUIRE(standin.request_count() == 1);
  StandinRequest r = standin.requests()[0];
  CHECK(r.method == "POST");
  CHECK(r.target == PlacesStandin::kNewPath);  // No key in the URL.
  CHECK(r.header("X-Goog-Api-Key") == kKey);
  CHECK(r.header("X-Goog-FieldMask") ==
        "places.id,places.displayName,places.shortFormattedAddress,places.formattedAddress,"
        "places.location,places.rating,places.types");
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body ==
        "{\"maxResultCount\":2,\"locationRestriction\":{\"circle\":{\"center\":"
        "{\"latitude\":34.068930,\"longitude\":-118.445127},\"radius\":10000}}}");

  // Google's error (HTTP 403, PERMISSION_DENIED) becomes a legacy REQUEST_DENIED.
  replies.push_back(whatsat(run, "Riley", "0.5", 20));
  CHECK(replies[1] == reply_of(at,
                               "{\n   \"html_attributions\": [],\n   \"results\": [],\n"
                               "   \"status\": \"REQUEST_DENIED\",\n   \"error_message\": \"API key "
                               "not valid. Please pass a valid API key.\"\n}"));
  REQUIRE(standin.request_count() == 2);
  CHECK(standin.requests()[1].body ==
        "{\"maxResultCount\":20,\"locationRestriction\":{\"circle\":{\"center\":"
        "{\"latitude\":34.068930,\"longitude\":-118.445127},\"radius\":500}}}");
  CHECK(standin.requests()[1].header("X-Goog-Api-Key") == kKey);

  // Nothing near: {} is ZERO_RESULTS.
  replies.push_back(whatsat(run, "Riley", "1", 1));
  CHECK(replies[2] == reply_of(at,
                               "{\n   \"html_attributions\": [],\n   \"results\": [],\n"
                               "   \"status\": \"ZERO_RESULTS\"\n}"));
  stop_and_check_no_key(run, replies, "\"radius\":500");
}

TEST_CASE("e2e places: --places-cache-s 60: repeats and smaller bounds come from the cache") {
  PlacesStandin standin;
  standin.respond(200, google_page());
  HerdRun run;
  start_herd(run, standin, {"--places-cache-s", "60"});
  std::string at = report(run, "Riley");

  std::string first = whatsat(run, "Riley", "10", 5);
  CHECK(first == reply_of(at, folded_page(5)));
  REQUIRE(standin.request_count() == 1);
  check_legacy_request(standin.requests()[0], kLocation, "10000");
  CHECK(whatsat(run, "Riley", "10", 5) == first);
  CHECK(whatsat(run, "Riley", "10", 2) == reply_of(at, folded_page(2)));
  CHECK(whatsat(run, "Riley", "10.000", 1) == reply_of(at, folded_page(1)));  // Same metres.
  // A legacy page is cached whole: a larger bound is cut from it too.
  CHECK(whatsat(run, "Riley", "10", 20) == reply_of(at, folded_page(20)));
  CHECK(standin.request_count() == 1);

  // Another radius is another question.
  CHECK(whatsat(run, "Riley", "11", 5) == reply_of(at, folded_page(5)));
  REQUIRE(standin.request_count() == 2);
  check_legacy_request(standin.requests()[1], kLocation, "11000");

  // `herd run` shares one Places client: Bernard's question is already answered.
  REQUIRE(wait_known(run, "Bernard", at, "10"));
  CHECK(whatsat(run, "Bernard", "11", 3) == reply_of(at, folded_page(3)));
  CHECK(standin.request_count() == 2);

  // A failure is not cached: the same question asks again.
  standin.enqueue(StandinReply::respond(500, "oops"));
  CHECK(whatsat(run, "Riley", "12", 5) == reply_of(at, error_body("Places answered HTTP 500")));
  CHECK(whatsat(run, "Riley", "12", 5) == reply_of(at, folded_page(5)));
  REQUIRE(standin.request_count() == 4);
  check_legacy_request(standin.requests()[3], kLocation, "12000");

  // The client moves: its new location is a new question.
  std::string at2 = report(run, "Riley", kId, "+34.1-118.3");
  CHECK(whatsat(run, "Riley", "10", 5) == reply_of(at2, folded_page(5)));
  REQUIRE(standin.request_count() == 5);
  check_legacy_request(standin.requests()[4], "34.1,-118.3", "10000");
  stop_and_check_no_key(run, {first}, "radius=12000");
}

}  // namespace
}  // namespace herd::e2e::places_e2e
