// End-to-end, issue 3: WHATSAT through `herd run` (the real binary, a child process)
// against the Places stand-in served over real HTTP on loopback. Every reply is checked
// byte for byte against PROTOCOL.md, every request the herd sent is checked on the
// wire, and the API key is looked for everywhere it must not be.
//
// Expected bodies are built here from the same parts as the stand-in's answers (the
// 25-result page is generated with and without blank lines), and checked again against
// herd::places_reply_body / places_error_body, and by a few literal bytes, so that the
// test does not only agree with the code it tests.
//
// Every wait is bounded; every herd is stopped (HerdProcess's destructor); only
// 127.0.0.1. One test waits out the herd's 10 s Places timeout; the rest take ~1 s each.
#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "node/places.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/places_standin.h"

extern char** environ;

namespace herd::e2e {
namespace {

// As long as a real key (39 bytes) and URL-safe like one, so that query_param() (not
// decoded) compares with it as is.
constexpr char kKey[] = "AIzaSyE2E_test-SECRET-key_0123456789xyz";
constexpr char kNoKeyWarning[] =
    "herd: GOOGLE_API_KEY is not set; Places requests will be sent without a key\n";
constexpr char kLoc[] = "+34.068930-118.445127";
constexpr char kLocation[] = "34.068930,-118.445127";  // What the request must carry.
constexpr char kId[] = "kiwi.cs.ucla.edu";

// ---- Bodies ------------------------------------------------------------------------

std::string two_digits(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", i);
  return buf;
}

// A legacy Nearby Search page laid out the way Google lays it out, `n` results, ending
// with one '\n'. `token` tells pages apart. The vicinity holds an escaped "\n\n" (JSON
// text `\n\n`): folding must leave it alone.
std::string legacy_page(int n, const std::string& token = "page-token-1") {
  std::string s = "{\n   \"html_attributions\" : [],\n   \"next_page_token\" : \"" + token +
                  "\",\n   \"results\" : [\n";
  for (int i = 1; i <= n; ++i) {
    std::string d = two_digits(i);
    s += "      {\n"
         "         \"geometry\" : {\n"
         "            \"location\" : {\n"
         "               \"lat\" : 34.07" + d + ",\n"
         "               \"lng\" : -118.44" + d + "\n"
         "            }\n"
         "         },\n"
         "         \"name\" : \"Place " + d + "\",\n"
         "         \"place_id\" : \"ChIJ-place-" + d + "\",\n"
         "         \"types\" : [ \"cafe\", \"food\", \"point_of_interest\" ],\n"
         "         \"vicinity\" : \"" + d + " Westwood Plaza\\n\\nLos Angeles\"\n"
         "      }";
    s += i < n ? ",\n" : "\n";
  }
  return s + "   ],\n   \"status\" : \"OK\"\n}\n";
}

// `page` with blank lines: every third line break becomes three, every third two,
// and three more at the end. Folding gives `page` back without its last '\n'.
std::string with_blank_lines(const std::string& page) {
  std::string out;
  int k = 0;
  for (char c : page) {
    out.push_back(c);
    if (c != '\n') continue;
    out += k % 3 == 0 ? "\n\n" : k % 3 == 1 ? "\n" : "";
    ++k;
  }
  return out + "\n\n\n";
}

// What the herd must put between the AT line and "\n\n" for a page cut to `bound`.
std::string folded_page(int bound, const std::string& token = "page-token-1") {
  std::string s = legacy_page(bound, token);
  s.pop_back();
  return s;
}

// The 25-result page Google "sends", blank lines and all.
const std::string& google_page() {
  static const std::string page = with_blank_lines(legacy_page(25));
  return page;
}

// The herd's UNKNOWN_ERROR body, written out by hand (PROTOCOL.md, places.h).
std::string error_body(const std::string& message) {
  return "{\n   \"html_attributions\": [],\n   \"results\": [],\n   \"status\": \"UNKNOWN_ERROR\",\n"
         "   \"error_message\": \"" + message + "\"\n}";
}

// Google's own REQUEST_DENIED answer (HTTP 200), blank lines added.
const std::string kDenied =
    "{\n   \"error_message\" : \"The provided API key is invalid. \",\n\n"
    "   \"html_attributions\" : [],\n   \"results\" : [],\n   \"status\" : \"REQUEST_DENIED\"\n}\n\n";
const std::string kDeniedFolded =
    "{\n   \"error_message\" : \"The provided API key is invalid. \",\n"
    "   \"html_attributions\" : [],\n   \"results\" : [],\n   \"status\" : \"REQUEST_DENIED\"\n}";
// The stand-in's default answer, folded.
const std::string kZeroResultsFolded =
    "{\n   \"html_attributions\" : [],\n   \"results\" : [],\n   \"status\" : \"ZERO_RESULTS\"\n}";

PlacesResult ok_result(const std::string& body) {
  PlacesResult r;
  r.transport_ok = true;
  r.http_status = 200;
  r.body = body;
  return r;
}

size_t count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The body of a WHATSAT reply: between the AT line and the final "\n\n".
std::string body_of(const std::string& reply) {
  size_t nl = reply.find('\n');
  if (nl == std::string::npos || reply.size() < nl + 3) return "";
  return reply.substr(nl + 1, reply.size() - nl - 3);
}

// Literal bytes of a body cut to `bound` from google_page(), checked without the
// generator: the names kept, the first dropped, no blank line, Google's own framing.
void check_page_literals(const std::string& body, int bound) {
  CHECK(count(body, "\"name\" : \"Place ") == static_cast<size_t>(bound));
  CHECK(body.find("\"name\" : \"Place 01\"") != std::string::npos);
  CHECK(body.find("\"name\" : \"Place " + two_digits(bound) + "\"") != std::string::npos);
  CHECK(body.find("\"name\" : \"Place " + two_digits(bound + 1) + "\"") == std::string::npos);
  CHECK(body.find("\n\n") == std::string::npos);
  CHECK(body.rfind("{\n   \"html_attributions\" : [],\n", 0) == 0);
  CHECK(body.ends_with("\n      }\n   ],\n   \"status\" : \"OK\"\n}"));
  CHECK(body.find("Westwood Plaza\\n\\nLos Angeles") != std::string::npos);
}

// ---- The herd ----------------------------------------------------------------------

// Starts `herd run` with its Places at the stand-in and GOOGLE_API_KEY = key (unset
// when nullopt).
void start_herd(HerdRun& run, const PlacesStandin& standin, std::vector<std::string> extra = {},
                std::optional<std::string> key = std::string(kKey), bool new_api = false) {
  REQUIRE_MESSAGE(standin.ok(), standin.error());
  run.herd.set_env("GOOGLE_API_KEY", std::move(key));
  std::vector<std::string> args = {
      "--places-url", standin.url(new_api ? PlacesStandin::kNewPath : PlacesStandin::kLegacyPath)};
  if (new_api) args.insert(args.end(), {"--places-api", "new"});
  args.insert(args.end(), extra.begin(), extra.end());
  REQUIRE_MESSAGE(run.start(args), run.herd.error());
  for (const auto& name : default_servers()) REQUIRE_MESSAGE(run.port(name) > 0, name);
}

std::string iamat_line(std::string_view id, std::string_view loc, std::string_view t) {
  return "IAMAT " + std::string(id) + " " + std::string(loc) + " " + std::string(t) + "\n";
}

// IAMAT at `server`; the AT line it answered (no '\n').
std::string report(HerdRun& run, const std::string& server, std::string_view id = kId,
                   std::string_view loc = kLoc) {
  std::string t = time_string();
  std::string reply = exchange(run.port(server), iamat_line(id, loc, t));
  REQUIRE_MESSAGE(is_at_reply(reply, server, id, loc, t), "got: ", reply);
  return first_line(reply);
}

std::string whatsat(HerdRun& run, const std::string& server, const std::string& radius,
                    int bound, std::string_view id = kId, int timeout_ms = 5'000) {
  return exchange(run.port(server),
                  "WHATSAT " + std::string(id) + " " + radius + " " + std::to_string(bound) + "\n",
                  timeout_ms);
}

std::string reply_of(const std::string& at_line, const std::string& body) {
  return at_line + "\n" + body + "\n\n";
}

// Polls `WHATSAT id radius 1` at `server` until its AT line is `at_line` (the flood has
// arrived). A poll that finds the client unknown makes no Places request; the one that
// finds it makes one (or hits the cache).
bool wait_known(HerdRun& run, const std::string& server, const std::string& at_line,
                const std::string& radius, std::string_view id = kId, int timeout_ms = 5'000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (first_line(whatsat(run, server, radius, 1, id)) == at_line) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string legacy_target(const std::string& location, const std::string& metres,
                          const std::string& key = kKey) {
  return std::string(PlacesStandin::kLegacyPath) + "?location=" + location + "&radius=" + metres +
         "&key=" + key;
}

void check_legacy_request(const StandinRequest& r, const std::string& location,
                          const std::string& metres) {
  CHECK(r.method == "GET");
  CHECK(r.target == legacy_target(location, metres));
  CHECK(r.query_param("location") == location);
  CHECK(r.query_param("radius") == metres);
  CHECK(r.query_param("key") == kKey);
  CHECK(r.body.empty());
}

// Every log file of the run, concatenated (5 servers: 5 files at least).
std::string all_logs(const std::string& dir) {
  std::string text;
  size_t files = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      text += read_text_file(dir + "/" + name);
      ++files;
    }
    ::closedir(d);
  }
  CHECK(files >= default_servers().size());
  return text;
}

// Stops the herd (SIGTERM must end it with 0: under ASan, no leak and no memory error),
// then looks for the key, raw or URL-encoded, in every log file, the herd's output and
// `replies`. The logs must hold the Places traffic, or finding no key would prove nothing.
void stop_and_check_no_key(HerdRun& run, const std::vector<std::string>& replies,
                           const std::string& logged) {
  ExitStatus st = run.herd.stop();
  CHECK_MESSAGE(st.clean(), "herd ", st.describe(), "; output:\n", run.herd.output());
  std::string logs = all_logs(run.logs.path());
  CHECK_MESSAGE(logs.find(logged) != std::string::npos, "the logs do not show ", logged);
  for (const std::string& key : {std::string(kKey), url_encode(kKey), std::string("SECRET")}) {
    CHECK_MESSAGE(logs.find(key) == std::string::npos, "key in a log file");
    CHECK_MESSAGE(run.herd.output().find(key) == std::string::npos, "key in the herd's output");
    for (const std::string& reply : replies) {
      CHECK_MESSAGE(reply.find(key) == std::string::npos, "key in a reply: ", reply);
    }
  }
}

// ---- The tests -----------------------------------------------------------------------

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

TEST_CASE("e2e places: HTTP 500, not JSON, closed mid-answer, Google's REQUEST_DENIED") {
  PlacesStandin standin;
  standin.enqueue(StandinReply::respond(500, "{\"error\": \"internal\"}"));
  standin.enqueue(StandinReply::respond(200, "<html><body>Server Error</body></html>\n"));
  standin.enqueue(StandinReply::close_mid_answer());
  standin.enqueue(StandinReply::respond(200, kDenied));
  standin.enqueue(StandinReply::respond(200, "{\"results\": [1, 2,"));  // Truncated JSON.
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Riley");
  struct Case {
    std::string what, body;
  };
  std::vector<Case> cases = {
      {"HTTP 500", error_body("Places answered HTTP 500")},
      {"not JSON", error_body("Places answered with something that is not JSON")},
      {"closed mid-answer", error_body("Places closed the connection mid-answer")},
      {"REQUEST_DENIED", kDeniedFolded},
      {"truncated JSON", error_body("Places answered with something that is not JSON")},
  };
  std::vector<std::string> replies;
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].what);
    std::string metres = std::to_string(1000 * (i + 1));
    std::string reply = whatsat(run, "Riley", std::to_string(i + 1), 5);
    replies.push_back(reply);
    CHECK(reply == reply_of(at, cases[i].body));
    REQUIRE(standin.request_count() == i + 1);
    check_legacy_request(standin.requests()[i], kLocation, metres);
  }
  CHECK(body_of(replies[0]) == places_error_body("Places answered HTTP 500"));
  PlacesResult status500;
  status500.transport_ok = true;
  status500.http_status = 500;
  CHECK(body_of(replies[0]) == places_reply_body(PlacesApi::kLegacy, status500, 5));
  CHECK(body_of(replies[3]) == places_reply_body(PlacesApi::kLegacy, ok_result(kDenied), 5));
  stop_and_check_no_key(run, replies, "radius=5000");
}

TEST_CASE("e2e places: Places unreachable (connection refused): UNKNOWN_ERROR, no key anywhere") {
  HerdRun run;
  // HerdRun's default --places-url is a closed loopback port (places_unreachable_args).
  run.herd.set_env("GOOGLE_API_KEY", std::string(kKey));
  REQUIRE_MESSAGE(run.start(), run.herd.error());
  std::string at = report(run, "Riley");
  std::string reply = whatsat(run, "Riley", "10", 5);
  CHECK(reply == reply_of(at, error_body("Places unreachable: Connection refused")));
  stop_and_check_no_key(run, {reply}, "radius=10000");
}

TEST_CASE("e2e places: a Places that hangs: the 10 s timeout answers, in order; others are served") {
  PlacesStandin standin;
  standin.set_handler([](const StandinRequest& r) {
    return r.query_param("radius") == "3000" ? StandinReply::hang()
                                             : StandinReply::respond(200, google_page());
  });
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Riley");

  // The hanging WHATSAT, then an IAMAT on the same connection: its AT line must wait.
  Client slow;
  REQUIRE(slow.connect(run.port("Riley")));
  std::string t = time_string();
  REQUIRE(slow.send("WHATSAT " + std::string(kId) + " 3 5\n" + iamat_line("fig", "+1.5-2.5", t)));
  slow.shutdown_write();
  REQUIRE(standin.wait_for_requests(1, 5'000));
  auto asked = std::chrono::steady_clock::now();

  // Meanwhile another connection is answered at once.
  std::string other = whatsat(run, "Riley", "4", 2);
  CHECK(other == reply_of(at, folded_page(2)));
  CHECK(slow.read_until([](std::string_view s) { return !s.empty(); }, 200).empty());

  std::string expected = reply_of(at, error_body("Places timed out after 10 s"));
  std::string got = slow.read_all_until_eof(16'000);
  auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - asked).count();
  CAPTURE(waited_ms);
  REQUIRE(got.size() > expected.size());
  CHECK(got.substr(0, expected.size()) == expected);
  CHECK(body_of(expected) == places_error_body("Places timed out after 10 s"));
  CHECK(is_at_reply(got.substr(expected.size()), "Riley", "fig", "+1.5-2.5", t));
  check_legacy_request(standin.requests()[0], kLocation, "3000");
  stop_and_check_no_key(run, {got, other}, "radius=3000");
}

TEST_CASE("e2e places: one connection: a slow WHATSAT, then a fast IAMAT, answered in that order") {
  PlacesStandin standin;
  standin.enqueue(StandinReply::respond(200, google_page(), /*delay_ms=*/1'500));
  standin.respond(200, google_page());
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Jaquez");

  Client c;
  REQUIRE(c.connect(run.port("Jaquez")));
  std::string t = time_string();
  REQUIRE(c.send("WHATSAT " + std::string(kId) + " 10 3\n" + iamat_line("fast", "+10-20", t)));
  REQUIRE(standin.wait_for_requests(1, 5'000));
  // Places answers 1.5 s after it was asked: nothing may come before that answer.
  CHECK(c.read_until([](std::string_view s) { return !s.empty(); }, 500).empty());
  std::string whatsat_reply = reply_of(at, folded_page(3));
  std::string got = c.read_until(
      [&](std::string_view s) {
        return s.size() > whatsat_reply.size() && s.back() == '\n';
      },
      5'000);
  REQUIRE(got.size() > whatsat_reply.size());
  CHECK(got.substr(0, whatsat_reply.size()) == whatsat_reply);
  CHECK(is_at_reply(got.substr(whatsat_reply.size()), "Jaquez", "fast", "+10-20", t));

  // The connection goes on: IAMAT, WHATSAT, IAMAT in one write, one fast Places answer.
  std::string t2 = time_string(), t3 = time_string(1);
  REQUIRE(c.send(iamat_line("a", "+1-1", t2) + "WHATSAT " + kId + " 10 1\n" +
                 iamat_line("b", "+2-2", t3)));
  c.shutdown_write();
  std::string all = c.read_all_until_eof(5'000);
  std::string first = all.substr(0, all.find('\n') + 1);
  CHECK(is_at_reply(first, "Jaquez", "a", "+1-1", t2));
  std::string middle = reply_of(at, folded_page(1));
  REQUIRE(all.size() > first.size() + middle.size());
  CHECK(all.substr(first.size(), middle.size()) == middle);
  CHECK(is_at_reply(all.substr(first.size() + middle.size()), "Jaquez", "b", "+2-2", t3));
  ExitStatus st = run.herd.stop();
  CHECK_MESSAGE(st.clean(), st.describe(), "\n", run.herd.output());
}

TEST_CASE("e2e places: 200 concurrent WHATSATs over the five servers, each gets its own answer") {
  raise_nofile_limit(4096);
  PlacesStandin standin;
  // Each radius gets its own page (its token names the radius), 300 ms late so that the
  // requests overlap; the polls of wait_known (49.999 km) are answered at once.
  standin.set_handler([](const StandinRequest& r) {
    std::string metres = r.query_param("radius");
    return StandinReply::respond(200, with_blank_lines(legacy_page(25, "r" + metres)),
                                 metres == "49999" ? 0 : 300);
  });
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Riley");
  for (const auto& server : default_servers()) REQUIRE(wait_known(run, server, at, "49.999"));
  size_t baseline = standin.request_count();

  constexpr int kClients = 200;
  struct Asker {
    Client client;
    std::string server, metres;
    int bound = 0;
  };
  std::vector<std::unique_ptr<Asker>> askers;
  for (int i = 0; i < kClients; ++i) {
    auto a = std::make_unique<Asker>();
    a->server = default_servers()[i % default_servers().size()];
    int metres = 250 * (i + 1);  // 250 m .. 50 km, all distinct.
    a->metres = std::to_string(metres);
    a->bound = i % 20 + 1;
    char radius[32];
    std::snprintf(radius, sizeof radius, "%d.%03d", metres / 1000, metres % 1000);
    REQUIRE(a->client.connect(run.port(a->server)));
    REQUIRE(a->client.send("WHATSAT " + std::string(kId) + " " + radius + " " +
                           std::to_string(a->bound) + "\n"));
    a->client.shutdown_write();
    askers.push_back(std::move(a));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int exact = 0;
  for (auto& a : askers) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    std::string got = a->client.read_all_until_eof(static_cast<int>(std::max<int64_t>(left, 1)));
    std::string want = reply_of(at, folded_page(a->bound, "r" + a->metres));
    if (got == want) {
      ++exact;
    } else {
      CHECK_MESSAGE(got == want, a->server, " radius ", a->metres, " m bound ", a->bound);
    }
  }
  CHECK(exact == kClients);
  std::vector<StandinRequest> reqs = standin.requests();
  REQUIRE(reqs.size() == baseline + kClients);
  std::set<std::string> radii;
  for (size_t i = baseline; i < reqs.size(); ++i) {
    CHECK(reqs[i].query_param("location") == kLocation);
    CHECK(reqs[i].query_param("key") == kKey);
    radii.insert(reqs[i].query_param("radius"));
  }
  CHECK(radii.size() == static_cast<size_t>(kClients));
  CHECK(radii.count("250") == 1);
  CHECK(radii.count("50000") == 1);
  stop_and_check_no_key(run, {}, "radius=50000");
}

TEST_CASE("e2e places: clients that leave before their answer; the herd goes on and exits clean") {
  PlacesStandin standin;
  // 3.3 km hangs (a transfer still in flight at SIGTERM); 10 km (the polls) and 22 km
  // answer at once; the rest 400 ms late.
  standin.set_handler([](const StandinRequest& r) {
    std::string metres = r.query_param("radius");
    if (metres == "3300") return StandinReply::hang();
    bool now = metres == "10000" || metres == "22000";
    return StandinReply::respond(200, google_page(), now ? 0 : 400);
  });
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Riley");
  for (const auto& server : default_servers()) REQUIRE(wait_known(run, server, at, "10"));

  // Each leaver's request has reached Places before it goes; half close, half reset.
  constexpr int kLeavers = 20;
  for (int i = 0; i < kLeavers; ++i) {
    const std::string& server = default_servers()[i % default_servers().size()];
    size_t before = standin.request_count();
    Client c;
    REQUIRE(c.connect(run.port(server)));
    std::string radius = i == 0 ? "3.3" : std::to_string(i + 1);
    REQUIRE(c.send("WHATSAT " + std::string(kId) + " " + radius + " 5\n" +
                   iamat_line("leaver", "+1-1", time_string())));
    REQUIRE(standin.wait_for_requests(before + 1, 5'000));
    if (i % 2 == 1) {
      linger l{1, 0};  // close() sends RST.
      ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    c.close();
  }
  // A client that only half-closes is still owed its answer. Asked after the leavers
  // and as late, it is answered after theirs.
  std::string half = whatsat(run, "Bernard", "21", 7);
  CHECK(half == reply_of(at, folded_page(7)));
  // The leavers' answers have come (400 ms) and gone nowhere; everyone else is served.
  for (const auto& server : default_servers()) {
    CAPTURE(server);
    CHECK(whatsat(run, server, "22", 2) == reply_of(at, folded_page(2)));
    std::string t = time_string();
    CHECK(is_at_reply(exchange(run.port(server), iamat_line("after", "+5-5", t)), server, "after",
                      "+5-5", t));
  }
  CHECK(run.herd.running());
  stop_and_check_no_key(run, {half}, "radius=3300");
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

TEST_CASE("e2e places: without GOOGLE_API_KEY: one warning at start; WHATSAT answers REQUEST_DENIED") {
  PlacesStandin standin;
  standin.set_handler([](const StandinRequest& r) {
    return StandinReply::respond(200, r.query_param("key").empty() ? kDenied : google_page());
  });
  for (const std::optional<std::string>& key : {std::optional<std::string>(), std::optional<std::string>("")}) {
    CAPTURE(key.has_value());
    size_t before = standin.request_count();
    HerdRun run;
    start_herd(run, standin, {}, key);
    std::string out = run.herd.output();
    CHECK(count(out, kNoKeyWarning) == 1);
    CHECK(out.find(kNoKeyWarning) < out.find("herd: ready"));
    std::string at = report(run, "Riley");
    CHECK(whatsat(run, "Riley", "10", 5) == reply_of(at, kDeniedFolded));
    REQUIRE(wait_known(run, "Campbell", at, "2"));
    CHECK(whatsat(run, "Campbell", "2", 20) == reply_of(at, kDeniedFolded));
    std::vector<StandinRequest> reqs = standin.requests();
    REQUIRE(reqs.size() >= before + 3);
    CHECK(reqs[before].target == legacy_target(kLocation, "10000", ""));
    CHECK(reqs.back().target == legacy_target(kLocation, "2000", ""));
    ExitStatus st = run.herd.stop();
    CHECK_MESSAGE(st.clean(), st.describe(), "\n", run.herd.output());
    CHECK(count(run.herd.output(), "GOOGLE_API_KEY") == 1);  // Once, for five servers.
  }
}

// Runs `herd args...` with GOOGLE_API_KEY=kKey to its exit; its status and output.
struct Finished {
  int wstatus = -1;
  std::string output;
};

Finished run_to_exit(const std::vector<std::string>& args, int timeout_ms = 5'000) {
  Finished f;
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  std::vector<std::string> argv_store = {herd_bin()};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<std::string> env_store = {std::string("GOOGLE_API_KEY=") + kKey};
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("GOOGLE_API_KEY=", 0) != 0) env_store.emplace_back(*e);
  }
  std::vector<char*> argv, envp;
  for (auto& a : argv_store) argv.push_back(a.data());
  for (auto& e : env_store) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    FAIL("posix_spawn ", argv[0], " failed: ", rc);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fds[0], POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      ::kill(pid, SIGKILL);  // Timed out: the status will say so.
      break;
    }
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    f.output.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  ::waitpid(pid, &f.wstatus, 0);
  return f;
}

TEST_CASE("e2e places: the key is not in any help output") {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"run", "--help"}, {"run", "-h"}, {"node", "--help"},
                                             {"--help"}, {"help", "run"}, {"help"}}) {
    std::string joined;
    for (const auto& a : args) joined += " " + a;
    CAPTURE(joined);
    Finished f = run_to_exit(args);
    CHECK_MESSAGE(WIFEXITED(f.wstatus), "status ", f.wstatus);
    CHECK(f.output.find("usage: herd") != std::string::npos);
    CHECK(f.output.find(kKey) == std::string::npos);
    CHECK(f.output.find("SECRET") == std::string::npos);
  }
  Finished help = run_to_exit({"run", "--help"});
  CHECK(WIFEXITED(help.wstatus));
  CHECK(WEXITSTATUS(help.wstatus) == 0);
  CHECK(help.output.find("GOOGLE_API_KEY") != std::string::npos);  // Names the variable only.
}

}  // namespace
}  // namespace herd::e2e
