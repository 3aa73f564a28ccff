// Shared by the end-to-end Places suites (places_e2e_test.cc, places_e2e_failure_test.cc,
// places_e2e_load_test.cc): the key and location the tests use, the bodies the
// stand-in serves and the herd must answer, and helpers that start a herd at the
// stand-in and talk to it. Every wait is bounded; helpers REQUIRE/CHECK through doctest,
// so they are called from inside a test case only.
//
// Expected bodies are built here from the same parts as the stand-in's answers (the
// 25-result page is generated with and without blank lines), and checked again against
// herd::places_reply_body / places_error_body, and by a few literal bytes, so that the
// tests do not only agree with the code they test.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/places.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/places_standin.h"

namespace herd::e2e::places_e2e {

// As long as a real key (39 bytes) and URL-safe like one, so that query_param() (not
// decoded) compares with it as is.
inline constexpr char kKey[] = "AIzaSyE2E_test-SECRET-key_0123456789xyz";
inline constexpr char kNoKeyWarning[] =
    "herd: GOOGLE_API_KEY is not set; Places requests will be sent without a key\n";
inline constexpr char kLoc[] = "+34.068930-118.445127";
inline constexpr char kLocation[] = "34.068930,-118.445127";  // What the request must carry.
inline constexpr char kId[] = "kiwi.cs.ucla.edu";

// ---- Bodies ------------------------------------------------------------------------

std::string two_digits(int i);  // "07".

// A legacy Nearby Search page laid out the way Google lays it out, `n` results, ending
// with one '\n'. `token` tells pages apart. The vicinity holds an escaped "\n\n" (JSON
// text `\n\n`): folding must leave it alone.
std::string legacy_page(int n, const std::string& token = "page-token-1");

// `page` with blank lines: every third line break becomes three, every third two,
// and three more at the end. Folding gives `page` back without its last '\n'.
std::string with_blank_lines(const std::string& page);

// What the herd must put between the AT line and "\n\n" for a page cut to `bound`.
std::string folded_page(int bound, const std::string& token = "page-token-1");

// The 25-result page Google "sends", blank lines and all.
const std::string& google_page();

// The herd's UNKNOWN_ERROR body, written out by hand (PROTOCOL.md, places.h).
std::string error_body(const std::string& message);

// Google's own REQUEST_DENIED answer (HTTP 200), blank lines added; and folded.
extern const std::string kDenied;
extern const std::string kDeniedFolded;
// The stand-in's default answer, folded.
extern const std::string kZeroResultsFolded;

PlacesResult ok_result(const std::string& body);  // A 200 answer carrying `body`.

size_t count(std::string_view text, std::string_view what);  // Occurrences, overlapping.

// The body of a WHATSAT reply: between the AT line and the final "\n\n".
std::string body_of(const std::string& reply);

// Literal bytes of a body cut to `bound` from google_page(), checked without the
// generator: the names kept, the first dropped, no blank line, Google's own framing.
void check_page_literals(const std::string& body, int bound);

// ---- The herd ----------------------------------------------------------------------

// Starts `herd run` with its Places at the stand-in and GOOGLE_API_KEY = key (unset
// when nullopt).
void start_herd(HerdRun& run, const PlacesStandin& standin, std::vector<std::string> extra = {},
                std::optional<std::string> key = std::string(kKey), bool new_api = false);

std::string iamat_line(std::string_view id, std::string_view loc, std::string_view t);

// IAMAT at `server`; the AT line it answered (no '\n').
std::string report(HerdRun& run, const std::string& server, std::string_view id = kId,
                   std::string_view loc = kLoc);

// `WHATSAT id radius bound` at `server`: the whole reply.
std::string whatsat(HerdRun& run, const std::string& server, const std::string& radius,
                    int bound, std::string_view id = kId, int timeout_ms = 5'000);

std::string reply_of(const std::string& at_line, const std::string& body);

// Polls `WHATSAT id radius 1` at `server` until its AT line is `at_line` (the flood has
// arrived). A poll that finds the client unknown makes no Places request; the one that
// finds it makes one (or hits the cache).
bool wait_known(HerdRun& run, const std::string& server, const std::string& at_line,
                const std::string& radius, std::string_view id = kId, int timeout_ms = 5'000);

// The request target a legacy request must have for `location` and `metres`.
std::string legacy_target(const std::string& location, const std::string& metres,
                          const std::string& key = kKey);

void check_legacy_request(const StandinRequest& r, const std::string& location,
                          const std::string& metres);

// Every log file of the run, concatenated (5 servers: 5 files at least).
std::string all_logs(const std::string& dir);

// Stops the herd (SIGTERM must end it with 0: under ASan, no leak and no memory error),
// then looks for the key, raw or URL-encoded, in every log file, the herd's output and
// `replies`. The logs must hold the Places traffic, or finding no key would prove nothing.
void stop_and_check_no_key(HerdRun& run, const std::vector<std::string>& replies,
                           const std::string& logged);

}  // namespace herd::e2e::places_e2e
