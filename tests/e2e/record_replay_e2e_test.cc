// A live `herd run --record` trace replays byte for byte in virtual time, and a trace
// with one input removed is caught (issue 5: record a live session, replay it).
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/e2e/harness.h"

using namespace herd::e2e;

namespace {

// Runs `herd replay TRACE` (a batch command that ends by itself: a trace of a few
// dozen inputs replays in milliseconds) and returns its exit status.
int replay(const std::string& trace, std::string* output) {
  std::string command = herd_bin() + " replay '" + trace + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  output->clear();
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output->append(buf, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("e2e record: a live herd run's trace replays, and a removed input is caught") {
  TempDir dir;
  const std::string trace = dir.path() + "/live.trace";
  HerdRun run;
  REQUIRE(run.start({"--record", trace}));
  std::string t = time_string();
  std::string r = exchange(run.port("Riley"), "IAMAT kiwi +34.068930-118.445127 " + t + "\n");
  REQUIRE(is_at_reply(r, "Riley", "kiwi", "+34.068930-118.445127", t));
  r = exchange(run.port("Bernard"), "WHATSAT kiwi 10 3\nnot a command\n\n");
  CHECK(r.find("? not a command\n") != std::string::npos);
  exchange(run.port("Campbell"), "IAMAT lemon -1+1 " + time_string() + "\n");
  REQUIRE(run.herd.stop().clean());

  std::ifstream in(trace);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> lines = split_lines(text.str());
  REQUIRE(lines.size() > 10);
  CHECK(lines.front().find("\"source\":\"live\"") != std::string::npos);
  CHECK(lines.back().find("\"end\":true") != std::string::npos);

  std::string out;
  CHECK(replay(trace, &out) == 0);
  CHECK(out.find("every output matches") != std::string::npos);

  // Remove the input that carried the IAMAT: replay must name the divergence.
  std::ofstream cut(dir.path() + "/cut.trace");
  bool removed = false;
  for (const std::string& line : lines) {
    if (!removed && line.find("\"in\":\"line\"") != std::string::npos &&
        line.find("\"text\":\"IAMAT kiwi") != std::string::npos) {
      removed = true;
      continue;
    }
    cut << line << "\n";
  }
  cut.close();
  REQUIRE(removed);
  CHECK(replay(dir.path() + "/cut.trace", &out) == 1);
  CHECK(out.find("event") != std::string::npos);
}
