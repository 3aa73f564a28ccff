// Record and replay: committed traces (tests/replay/*.jsonl) replay with every
// output matching and rewrite byte for byte; a trace with an input removed or an
// output changed is caught and the first divergent event named; a trace written the
// way the live host writes one (arbitrary connection ids, any bytes) replays.
//
// tests/replay/live_like.jsonl is written by the "live-like trace" case below when
// HERD_WRITE_TRACES=1; tests/replay/ring5_faults.jsonl by
//   herd sim sim/scenarios/replay_small.json --record tests/replay/ring5_faults.jsonl
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "net/files.h"
#include "node/driver.h"
#include "node/node.h"
#include "node/hash.h"
#include "node/json_bytes.h"
#include "sim/replay.h"
#include "sim/cli/scenario_file.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/trace.h"
#include "tests/unit/mini_herd.h"

namespace herd {
namespace {

namespace fs = std::filesystem;

fs::path root() {
  const char* r = std::getenv("HERD_ROOT");
  return r != nullptr && *r != '\0' ? r : ".";
}

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("herd-sim-" + std::to_string(::getpid()) + "-" + name);
}

std::string slurp(const fs::path& path) {
  Result<std::string> text = read_text_file(path.string());
  REQUIRE_MESSAGE(text.ok(), (text.ok() ? "" : text.error()));
  return text.value();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

ReplayResult replay_text(const std::string& text) {
  std::istringstream in(text);
  return replay_trace(in, "t.jsonl");
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// Writes a trace the way a live `herd run` would: real-looking clocks, connection
// ids anywhere in uint64, bytes that are not UTF-8, Places failures and bodies.
void write_live_like(const fs::path& path) {
  Result<Topology> t = load_topology((root() / "topologies" / "ring5.json").string());
  REQUIRE(t.ok());
  TraceHeader header;
  header.source = "live";
  header.topology = t.value();
  for (const TopologyNode& n : t.value().nodes) {
    NodeConfig c;
    c.name = n.name;
    c.neighbours = t.value().neighbours(n.name);
    c.sync.mode = SyncMode::kOff;
    header.nodes.push_back(c);
  }
  auto w = TraceWriter::open(path.string(), header);
  REQUIRE(w.ok());
  MiniHerd host(t.value(), w.value().get(), [](NodeConfig& c) { c.sync.mode = SyncMode::kOff; });
  host.start_all();
  host.client(0, 18'446'744'073'709'551'615ull, "IAMAT kiwi\xff\xfe.cs\xc3\xa9 +34.068930-118.445127 1621464827.959498503");
  host.client(2, 9'223'372'036'854'775'808ull, "  IAMAT\tplum +1.5-2.25 1621464828.1\r");
  host.client(3, 3, "WHATSAT kiwi\xff\xfe.cs\xc3\xa9 10 5");
  host.client(3, 17, "WHATSAT plum 50 20");
  host.wait(80'000'000);
  host.places(3, 1, PlacesResult{true, 200, "{\"results\": [{\"name\": \"a\"}, {\"name\": \"b\\u00e9\"}],\n\n\n \"status\": \"OK\"}\n\n", ""});
  host.wait(10'000'000'000);
  host.places(3, 2, PlacesResult{false, 0, "", "timed out after 10 s"});
  host.client(4, 123456789, "HELLO world");
  host.client(4, 123456790, "");
  host.client(4, 5, "AT n0 +0.000000001 mango +1-1 1621464830");  // A client speaking peer.
  host.peer(1, 0, "GARBAGE from a confused peer \x01\x7f");
  host.reset(1, 0);
  host.crash(2);
  host.client(1, 42, "IAMAT plum +1.5-2.25 1621464829");
  host.wait(500'000'000);
  host.restart(2);
  host.client(2, 43, "WHATSAT plum 1 1");
  REQUIRE(w.value()->close(host.all()).empty());
}

TEST_CASE("replay: every committed trace replays, and rewrites byte for byte") {
  std::vector<fs::path> traces;
  for (const auto& entry : fs::directory_iterator(root() / "tests" / "replay")) {
    if (entry.path().extension() == ".jsonl") traces.push_back(entry.path());
  }
  std::sort(traces.begin(), traces.end());
  REQUIRE(traces.size() >= 2);
  for (const fs::path& trace : traces) {
    CAPTURE(trace.string());
    const fs::path copy = temp_path("rewrite.jsonl");
    const ReplayResult r = replay_file(trace.string(), copy.string());
    CHECK_MESSAGE(r.status == ReplayResult::Status::kMatch, r.message);
    CHECK(r.ended);
    CHECK(r.inputs > 10);
    CHECK(slurp(copy) == slurp(trace));
    fs::remove(copy);
  }
}

TEST_CASE("replay: an input removed is caught, naming the event") {
  const std::vector<std::string> lines = lines_of(slurp(root() / "tests" / "replay" / "ring5_faults.jsonl"));
  REQUIRE(lines.size() > 60);
  for (size_t removed : {size_t{1}, size_t{50}, lines.size() - 2}) {
    CAPTURE(removed);
    std::vector<std::string> cut = lines;
    cut.erase(cut.begin() + static_cast<std::ptrdiff_t>(removed));
    const ReplayResult r = replay_text(join(cut));
    CHECK(r.status == ReplayResult::Status::kDiverged);
    // Line `removed` (0-based) held input removed - 1.
    CHECK(r.message.find("event " + std::to_string(removed - 1)) != std::string::npos);
  }
  // The end line alone: the count of inputs tells.
  std::vector<std::string> no_end = lines;
  no_end.pop_back();
  no_end.pop_back();
  no_end.push_back(lines.back());
  const ReplayResult r = replay_text(join(no_end));
  CHECK(r.status == ReplayResult::Status::kDiverged);
  CHECK(r.message.find("inputs are missing") != std::string::npos);
}

TEST_CASE("replay: a changed input or output names event, server, expected and got") {
  std::vector<std::string> lines = lines_of(slurp(root() / "tests" / "replay" / "ring5_faults.jsonl"));
  size_t at = 0;
  for (size_t i = 1; i < lines.size() && at == 0; ++i) {
    if (lines[i].find("\"in\":\"line\"") != std::string::npos && lines[i].find("\"text\":\"IAMAT") != std::string::npos) at = i;
  }
  REQUIRE(at > 0);
  std::vector<std::string> changed = lines;
  const size_t dot = changed[at].rfind('.');  // In the client's time: the reply changes.
  changed[at][dot + 1] = changed[at][dot + 1] == '1' ? '2' : '1';
  ReplayResult r = replay_text(join(changed));
  CHECK(r.status == ReplayResult::Status::kDiverged);
  CHECK(r.message.find("first divergence at event " + std::to_string(at - 1) + ", server ") != std::string::npos);
  CHECK(r.message.find("expected outputs ") != std::string::npos);
  CHECK(r.message.find(", got ") != std::string::npos);

  changed = lines;
  const size_t out = changed[at].find("\"out\":\"") + 7;
  changed[at][out] = changed[at][out] == '0' ? '1' : '0';
  r = replay_text(join(changed));
  CHECK(r.status == ReplayResult::Status::kDiverged);
  CHECK(r.message.find("event " + std::to_string(at - 1)) != std::string::npos);

  CHECK(replay_text("not json\n").status == ReplayResult::Status::kBadTrace);
  CHECK(replay_text("").status == ReplayResult::Status::kBadTrace);
}

TEST_CASE("replay: a live-like trace (any conn ids, any bytes) replays; the committed one too") {
  const fs::path fresh = temp_path("live.jsonl");
  write_live_like(fresh);
  const ReplayResult r = replay_file(fresh.string());
  CHECK_MESSAGE(r.status == ReplayResult::Status::kMatch, r.message);
  const std::string text = slurp(fresh);
  CHECK(text.find("\"conn\":18446744073709551615") != std::string::npos);
  CHECK(text.find("kiwi\\u00ff\\u00fe.cs\\u00c3\\u00a9") != std::string::npos);
  const fs::path committed = root() / "tests" / "replay" / "live_like.jsonl";
  if (std::getenv("HERD_WRITE_TRACES") != nullptr) fs::copy_file(fresh, committed, fs::copy_options::overwrite_existing);
  CHECK_MESSAGE(slurp(committed) == text, "the live-like trace changed: rerun with HERD_WRITE_TRACES=1 if intended");
  fs::remove(fresh);
}

TEST_CASE("replay: a simulated run recorded and replayed matches; its bytes repeat") {
  Result<Scenario> s = load_scenario((root() / "sim" / "scenarios" / "crash_restart.json").string());
  REQUIRE(s.ok());
  std::string texts[2];
  for (std::string& text : texts) {
    Simulator sim(s.value(), 9);
    const fs::path path = temp_path("sim.jsonl");
    auto w = TraceWriter::open(path.string(), sim.trace_header());
    REQUIRE(w.ok());
    sim.add_observer(w.value().get());
    const Report report = sim.run();
    REQUIRE(w.value()->close(sim.nodes()).empty());
    const ReplayResult r = replay_file(path.string());
    CHECK_MESSAGE(r.status == ReplayResult::Status::kMatch, r.message);
    CHECK(r.inputs == w.value()->inputs());
    text = slurp(path);
    CHECK(text.find(hex16(report.digest)) != std::string::npos);
    fs::remove(path);
  }
  CHECK(texts[0] == texts[1]);
}

TEST_CASE("json bytes: every byte survives the round trip") {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string quoted = json_bytes(all);
  for (const char c : quoted) CHECK((c >= 0x20 && c < 0x7f));
  // What a JSON reader hands back for the quoted text: U+0000..U+00FF as UTF-8.
  std::string utf8;
  for (int c = 0; c < 256; ++c) {
    if (c < 0x80) utf8.push_back(static_cast<char>(c));
    else utf8.push_back(static_cast<char>(0xC0 | (c >> 6))), utf8.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  CHECK(bytes_from_json(utf8) == all);
  CHECK_FALSE(bytes_from_json("\xe2\x82\xac"));  // U+20AC is not a byte.
}

}  // namespace
}  // namespace herd
