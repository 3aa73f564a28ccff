// Shaping of Places answers into WHATSAT bodies, and request building: exact bytes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "node/places.h"

using namespace herd;

namespace {

PlacesResult ok_200(std::string body) {
  PlacesResult r;
  r.transport_ok = true;
  r.http_status = 200;
  r.body = std::move(body);
  return r;
}

PlacesResult failed(std::string reason) {
  PlacesResult r;
  r.failure = std::move(reason);
  return r;
}

std::string legacy(const std::string& body, int bound) {
  return places_reply_body(PlacesApi::kLegacy, ok_200(body), bound);
}

std::string error_body(const std::string& status, const std::string& message_json) {
  return "{\n"
         "   \"html_attributions\": [],\n"
         "   \"results\": [],\n"
         "   \"status\": \"" + status + "\",\n"
         "   \"error_message\": \"" + message_json + "\"\n"
         "}";
}

// One result element the way the legacy API formats it (no leading indent).
std::string element(int i) {
  std::string n = std::to_string(i);
  return "{\n"
         "         \"geometry\" : {\n"
         "            \"location\" : {\n"
         "               \"lat\" : 34.07" + n + ",\n"
         "               \"lng\" : -118.44" + n + "\n"
         "            }\n"
         "         },\n"
         "         \"name\" : \"Place " + n + "\",\n"
         "         \"place_id\" : \"ChIJ" + n + "\",\n"
         "         \"types\" : [ \"cafe\", \"food\" ],\n"
         "         \"vicinity\" : \"" + n + " Westwood Plaza\"\n"
         "      }";
}

// A legacy body with `count` results, with blank lines where Google has put them.
std::string google_body(int count, const std::string& sep = ",\n\n      ") {
  std::string body =
      "{\n"
      "   \"html_attributions\" : [],\n\n"
      "   \"next_page_token\" : \"Aap_uE\",\n"
      "   \"results\" : [\n"
      "      ";
  for (int i = 0; i < count; ++i) {
    if (i > 0) body += sep;
    body += element(i);
  }
  body += "\n   ],\n\n\n   \"status\" : \"OK\"\n}\n\n";
  return body;
}

}  // namespace

TEST_CASE("legacy: 25 results with blank lines cut to 5, Google's text otherwise") {
  std::string expected =
      "{\n"
      "   \"html_attributions\" : [],\n"
      "   \"next_page_token\" : \"Aap_uE\",\n"
      "   \"results\" : [\n"
      "      " + element(0) + ",\n"
      "      " + element(1) + ",\n"
      "      " + element(2) + ",\n"
      "      " + element(3) + ",\n"
      "      " + element(4) + "\n"
      "   ],\n"
      "   \"status\" : \"OK\"\n"
      "}";
  std::string got = legacy(google_body(25), 5);
  CHECK(got == expected);
  // The first and last kept elements and the text between them are Google's.
  size_t first = got.find(element(0));
  size_t last = got.find(element(4));
  REQUIRE(first != std::string::npos);
  REQUIRE(last != std::string::npos);
  CHECK(got.find("Place 5") == std::string::npos);
  CHECK(got.substr(first + element(0).size(), 8) == ",\n      ");
  CHECK(got.substr(last + element(4).size()) == "\n   ],\n   \"status\" : \"OK\"\n}");
}

TEST_CASE("legacy: one result kept; compact Google formatting") {
  CHECK(legacy("{\"results\":[1,2,3],\"status\":\"OK\"}", 1) ==
        "{\"results\":[1],\"status\":\"OK\"}");
  CHECK(legacy("{\"results\" : [ {\"a\":1} , {\"b\":2} ] }", 1) == "{\"results\" : [ {\"a\":1} ] }");
  CHECK(legacy("{\"results\":[\"x\",\"y\"]}", 0) == "{\"results\":[]}");
}

TEST_CASE("legacy: a bound larger than the results keeps them all") {
  std::string body = google_body(3);
  std::string expected = google_body(3, ",\n      ");
  expected.replace(expected.find("[],\n\n"), 5, "[],\n");
  expected.replace(expected.find("],\n\n\n"), 5, "],\n");
  expected.resize(expected.size() - 2);  // trailing "\n\n"
  CHECK(legacy(body, 20) == expected);
  CHECK(legacy(body, 3) == expected);
}

TEST_CASE("legacy: ZERO_RESULTS and an empty results array pass through") {
  CHECK(legacy("{\n   \"html_attributions\" : [],\n   \"results\" : [],\n"
               "   \"status\" : \"ZERO_RESULTS\"\n}\n", 5) ==
        "{\n   \"html_attributions\" : [],\n   \"results\" : [],\n"
        "   \"status\" : \"ZERO_RESULTS\"\n}");
  CHECK(legacy("{\"results\" : [ \n\n   ], \"status\" : \"OK\"}", 1) ==
        "{\"results\" : [ \n   ], \"status\" : \"OK\"}");
}

TEST_CASE("legacy: nested arrays inside elements are not results") {
  std::string body =
      "{\"results\": [\n"
      "  {\"types\": [\"a\", [\"b\", [\"c\"]]], \"photos\": [{\"w\": [1, 2]}]},\n"
      "  [[1], [2, [3]]],\n"
      "  {\"results\": [1, 2, 3]},\n"
      "  4\n"
      "], \"status\": \"OK\"}";
  CHECK(legacy(body, 2) ==
        "{\"results\": [\n"
        "  {\"types\": [\"a\", [\"b\", [\"c\"]]], \"photos\": [{\"w\": [1, 2]}]},\n"
        "  [[1], [2, [3]]]\n"
        "], \"status\": \"OK\"}");
  // A `results` key below the root is left alone.
  CHECK(legacy(body, 3) ==
        "{\"results\": [\n"
        "  {\"types\": [\"a\", [\"b\", [\"c\"]]], \"photos\": [{\"w\": [1, 2]}]},\n"
        "  [[1], [2, [3]]],\n"
        "  {\"results\": [1, 2, 3]}\n"
        "], \"status\": \"OK\"}");
  CHECK(legacy("{\"x\": {\"results\": [1, 2, 3]}}", 1) == "{\"x\": {\"results\": [1, 2, 3]}}");
  CHECK(legacy("[{\"results\": [1, 2, 3]}]", 1) == "[{\"results\": [1, 2, 3]}]");
}

TEST_CASE("legacy: strings holding brackets, quotes and escapes do not confuse the cut") {
  std::string body =
      "{\"status\": \"OK]\", \"results\": [\n"
      "   {\"name\": \"a ] \\\" [ }, {\", \"v\": \"back\\\\\"},\n"
      "   \"\\\"],[\\\\\",\n"
      "   {\"name\": \"\\u005d\\n\"}\n"
      "]}";
  CHECK(legacy(body, 2) ==
        "{\"status\": \"OK]\", \"results\": [\n"
        "   {\"name\": \"a ] \\\" [ }, {\", \"v\": \"back\\\\\"},\n"
        "   \"\\\"],[\\\\\"\n"
        "]}");
  CHECK(legacy(body, 1) ==
        "{\"status\": \"OK]\", \"results\": [\n"
        "   {\"name\": \"a ] \\\" [ }, {\", \"v\": \"back\\\\\"}\n"
        "]}");
  // The key is compared decoded: "result\u0073" is `results`.
  CHECK(legacy("{\"result\\u0073\": [true, false, null]}", 2) ==
        "{\"result\\u0073\": [true, false]}");
  // Numbers of every form end where they should.
  CHECK(legacy("{\"results\": [-1.5e+3 ,2E-2,0 ,7]}", 3) == "{\"results\": [-1.5e+3 ,2E-2,0]}");
}

TEST_CASE("legacy: Google's own error statuses pass through as sent") {
  std::string denied =
      "{\n   \"error_message\" : \"The provided API key is invalid. \",\n"
      "   \"html_attributions\" : [],\n   \"results\" : [],\n"
      "   \"status\" : \"REQUEST_DENIED\"\n}\n";
  CHECK(legacy(denied, 5) == denied.substr(0, denied.size() - 1));
  std::string over = "{\"results\":[],\"status\":\"OVER_QUERY_LIMIT\"}";
  CHECK(legacy(over, 5) == over);
  CHECK(legacy("{\"status\": \"INVALID_REQUEST\"}\n\n\n", 5) == "{\"status\": \"INVALID_REQUEST\"}");
}

TEST_CASE("legacy: no results array: the body passes through, newlines folded") {
  CHECK(legacy("{\n\n\"a\": 1,\n\n\n\"results\": 7}\n", 2) == "{\n\"a\": 1,\n\"results\": 7}");
  CHECK(legacy("  [1, 2, 3]  ", 1) == "  [1, 2, 3]  ");
}

// Found by the places fuzz target (tests/fuzz/corpus/places/leading-newline): the body
// follows the AT line's '\n', so a leading newline made an empty line there, which a
// client takes for the end of the reply.
TEST_CASE("legacy: newlines before the body go, so the reply's only empty line is its end") {
  CHECK(legacy("\n{}", 5) == "{}");
  CHECK(legacy("\n\n\n{\"results\" : [],\n\n   \"status\" : \"ZERO_RESULTS\"}\n\n", 5) ==
        "{\"results\" : [],\n   \"status\" : \"ZERO_RESULTS\"}");
  CHECK(legacy(" \n{}", 5) == " \n{}");  // Not an empty line: a space before the newline.
}

TEST_CASE("legacy: a body that is not JSON is an UNKNOWN_ERROR") {
  std::string not_json = error_body("UNKNOWN_ERROR", "Places answered with something that is not JSON");
  CHECK(legacy("<html>Server Error</html>", 5) == not_json);
  CHECK(legacy("", 5) == not_json);
  CHECK(legacy("{\"results\": [1, 2]", 5) == not_json);
  CHECK(legacy("{\"results\": [1, 2,]}", 5) == not_json);
  CHECK(legacy("{} {}", 5) == not_json);
  CHECK(legacy(std::string("{}\0{}", 5), 5) == not_json);
  CHECK(legacy(std::string(100000, '['), 5) == not_json);  // deep, and no stack overflow
}

TEST_CASE("legacy: HTTP 500 and transport failures are UNKNOWN_ERROR bodies") {
  PlacesResult r = ok_200("{\"results\": [], \"status\": \"OK\"}");
  r.http_status = 500;
  CHECK(places_reply_body(PlacesApi::kLegacy, r, 5) ==
        "{\n"
        "   \"html_attributions\": [],\n"
        "   \"results\": [],\n"
        "   \"status\": \"UNKNOWN_ERROR\",\n"
        "   \"error_message\": \"Places answered HTTP 500\"\n"
        "}");
  CHECK(places_reply_body(PlacesApi::kLegacy, failed("unreachable: Connection refused"), 5) ==
        error_body("UNKNOWN_ERROR", "Places unreachable: Connection refused"));
  CHECK(places_reply_body(PlacesApi::kLegacy, failed("timed out after 10 s"), 5) ==
        error_body("UNKNOWN_ERROR", "Places timed out after 10 s"));
  CHECK(places_reply_body(PlacesApi::kNew, failed("closed the connection mid-answer"), 5) ==
        error_body("UNKNOWN_ERROR", "Places closed the connection mid-answer"));
  CHECK(places_error_body("say \"hi\"\\\n\x01") ==
        error_body("UNKNOWN_ERROR", "say \\\"hi\\\"\\\\\\n\\u0001"));
}

TEST_CASE("new: places map to the legacy shape, 3-space indent") {
  std::string answer = R"({
  "places": [
    {
      "id": "ChIJ1",
      "types": ["cafe", "food", {"odd": 1}],
      "formattedAddress": "1 Main St, Los Angeles, CA 90024, USA",
      "shortFormattedAddress": "1 Main St, Los Angeles",
      "location": {"latitude": 34.0736204, "longitude": -118.4003563},
      "rating": 4.5,
      "displayName": {"text": "Cafe \"One\"", "languageCode": "en"}
    },
    {
      "id": "ChIJ2",
      "formattedAddress": "2 Main St",
      "rating": 4
    },
    {"id": "ChIJ3"}
  ]
})";
  CHECK(places_reply_body(PlacesApi::kNew, ok_200(answer), 2) ==
        "{\n"
        "   \"html_attributions\": [],\n"
        "   \"results\": [\n"
        "      {\n"
        "         \"geometry\": {\n"
        "            \"location\": {\n"
        "               \"lat\": 34.0736204,\n"
        "               \"lng\": -118.4003563\n"
        "            }\n"
        "         },\n"
        "         \"name\": \"Cafe \\\"One\\\"\",\n"
        "         \"place_id\": \"ChIJ1\",\n"
        "         \"rating\": 4.5,\n"
        "         \"types\": [\n"
        "            \"cafe\",\n"
        "            \"food\"\n"
        "         ],\n"
        "         \"vicinity\": \"1 Main St, Los Angeles\"\n"
        "      },\n"
        "      {\n"
        "         \"place_id\": \"ChIJ2\",\n"
        "         \"rating\": 4,\n"
        "         \"vicinity\": \"2 Main St\"\n"
        "      }\n"
        "   ],\n"
        "   \"status\": \"OK\"\n"
        "}");
  CHECK(places_reply_body(PlacesApi::kNew, ok_200(answer), 20).find("ChIJ3") != std::string::npos);
}

TEST_CASE("new: no places is ZERO_RESULTS") {
  std::string zero =
      "{\n   \"html_attributions\": [],\n   \"results\": [],\n   \"status\": \"ZERO_RESULTS\"\n}";
  CHECK(places_reply_body(PlacesApi::kNew, ok_200("{}"), 5) == zero);
  CHECK(places_reply_body(PlacesApi::kNew, ok_200("{\"places\": []}"), 5) == zero);
}

TEST_CASE("new: Google's errors map to legacy statuses with Google's message") {
  auto mapped = [](int http, const std::string& body) {
    PlacesResult r = ok_200(body);
    r.http_status = http;
    return places_reply_body(PlacesApi::kNew, r, 5);
  };
  CHECK(mapped(403, R"({"error": {"code": 403, "message": "Method doesn't allow unregistered callers.", "status": "PERMISSION_DENIED"}})") ==
        error_body("REQUEST_DENIED", "Method doesn't allow unregistered callers."));
  CHECK(mapped(401, R"({"error": {"code": 401, "message": "m"}})") == error_body("REQUEST_DENIED", "m"));
  CHECK(mapped(429, R"({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})") ==
        error_body("OVER_QUERY_LIMIT", "quota"));
  CHECK(mapped(400, R"({"error": {"code": 400, "message": "bad \"radius\"", "status": "INVALID_ARGUMENT"}})") ==
        error_body("INVALID_REQUEST", "bad \\\"radius\\\""));
  CHECK(mapped(503, R"({"error": {"code": 503, "message": "later", "status": "UNAVAILABLE"}})") ==
        error_body("UNKNOWN_ERROR", "later"));
  CHECK(mapped(400, R"({"error": {}})") == error_body("INVALID_REQUEST", "Places answered HTTP 400"));
  CHECK(mapped(500, "<html>oops</html>") == error_body("UNKNOWN_ERROR", "Places answered HTTP 500"));
  CHECK(mapped(200, "not json") ==
        error_body("UNKNOWN_ERROR", "Places answered with something that is not JSON"));
  CHECK(mapped(200, "[]") == error_body("UNKNOWN_ERROR", "Places answered JSON that is not an object"));
}

// Found by the places fuzz target (tests/fuzz/corpus/places/lone-surrogate): RapidJSON
// decodes the escape of a lone surrogate to bytes that are no UTF-8 (ED B0 80 for
// \udc00), which went into the body as they were; each byte of them is now U+FFFD.
TEST_CASE("new: Google's text is written as UTF-8, whatever it decodes to") {
  PlacesResult denied = ok_200(R"({"error": {"code": 403, "message": "bad \udc00 key \ud83d\ude00 caf\u00e9"}})");
  denied.http_status = 403;
  CHECK(places_reply_body(PlacesApi::kNew, denied, 5) ==
        error_body("REQUEST_DENIED", "bad \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd key \xf0\x9f\x98\x80 caf\xc3\xa9"));
  const std::string raw = "{\"places\": [{\"id\": \"a\xff\xc0\x80\xed\xa0\x80z\"}]}";
  const std::string body = places_reply_body(PlacesApi::kNew, ok_200(raw), 5);
  CHECK(body.find("\"place_id\": \"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\"") !=
        std::string::npos);
  CHECK(places_reply_body(PlacesApi::kNew, failed("reset \xff"), 5) ==
        error_body("UNKNOWN_ERROR", "Places reset \xef\xbf\xbd"));
}

// Found by the places fuzz target (tests/fuzz/corpus/places/number-too-large):
// RapidJSON reads 38e307 as infinity, its writer writes nothing for it, and the body
// had "rating": with no value.
TEST_CASE("new: a number too large for a double is left out, like a missing one") {
  const std::string answer = R"({"places": [{"id": "a", "rating": 38e307,
    "location": {"latitude": 9e308, "longitude": -118.4}}]})";
  CHECK(places_reply_body(PlacesApi::kNew, ok_200(answer), 5) ==
        "{\n"
        "   \"html_attributions\": [],\n"
        "   \"results\": [\n"
        "      {\n"
        "         \"place_id\": \"a\"\n"
        "      }\n"
        "   ],\n"
        "   \"status\": \"OK\"\n"
        "}");
}

TEST_CASE("requests: legacy URL, New body and field mask") {
  PlacesQuery q;
  q.lat = "34.068930";
  q.lng = "-118.445127";
  q.radius_m = 10000;
  q.bound = 5;
  CHECK(places_legacy_url("https://maps.googleapis.com/maps/api/place/nearbysearch/json", q, "AIza_k-1.~") ==
        "https://maps.googleapis.com/maps/api/place/nearbysearch/json"
        "?location=34.068930,-118.445127&radius=10000&key=AIza_k-1.~");
  CHECK(places_legacy_url("http://h/p?x=1", q, "a b&c=d/+%\xc3\xa9") ==
        "http://h/p?x=1&location=34.068930,-118.445127&radius=10000&key=a%20b%26c%3Dd%2F%2B%25%C3%A9");
  CHECK(places_new_request_body(q) ==
        "{\"maxResultCount\":5,\"locationRestriction\":{\"circle\":{\"center\":"
        "{\"latitude\":34.068930,\"longitude\":-118.445127},\"radius\":10000}}}");
  q.lat = "+034.50";
  q.lng = "-.5";
  q.radius_m = 1;
  q.bound = 20;
  CHECK(places_new_request_body(q) ==
        "{\"maxResultCount\":20,\"locationRestriction\":{\"circle\":{\"center\":"
        "{\"latitude\":34.50,\"longitude\":-0.5},\"radius\":1}}}");
  q.lat = "0";
  q.lng = "180.";
  CHECK(places_new_request_body(q).find("{\"latitude\":0,\"longitude\":180}") != std::string::npos);
  CHECK(places_new_field_mask() ==
        "places.id,places.displayName,places.shortFormattedAddress,places.formattedAddress,"
        "places.location,places.rating,places.types");
}
