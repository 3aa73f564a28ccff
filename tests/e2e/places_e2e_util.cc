// The shared helpers of the end-to-end Places suites; see places_e2e_util.h.
#include "tests/e2e/places_e2e_util.h"

#include <doctest/doctest.h>

#include <dirent.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace herd::e2e::places_e2e {

std::string two_digits(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", i);
  return buf;
}

// A legacy Nearby Search page laid out the way Google lays it out, `n` results, ending
// with one '\n'. `token` tells pages apart. The vicinity holds an escaped "\n\n" (JSON
// text `\n\n`): folding must leave it alone.
std::string legacy_page(int n, const std::string& token) {
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
std::string folded_page(int bound, const std::string& token) {
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
void start_herd(HerdRun& run, const PlacesStandin& standin, std::vector<std::string> extra,
                std::optional<std::string> key, bool new_api) {
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
std::string report(HerdRun& run, const std::string& server, std::string_view id,
                   std::string_view loc) {
  std::string t = time_string();
  std::string reply = exchange(run.port(server), iamat_line(id, loc, t));
  REQUIRE_MESSAGE(is_at_reply(reply, server, id, loc, t), "got: ", reply);
  return first_line(reply);
}

std::string whatsat(HerdRun& run, const std::string& server, const std::string& radius,
                    int bound, std::string_view id, int timeout_ms) {
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
                const std::string& radius, std::string_view id, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (first_line(whatsat(run, server, radius, 1, id)) == at_line) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string legacy_target(const std::string& location, const std::string& metres,
                          const std::string& key) {
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

}  // namespace herd::e2e::places_e2e
