// End-to-end: `herd explore` counts exactly the states that theory gives for herds
// small enough to count by hand, finds the lost update of a built-to-fail herd (sync
// off, one drop allowed), writes its order as a trace that `herd replay` replays
// input by input (to the same violating end state), and refuses bad input with exit 2.
//
// The model (sim/explore.h): after setup (links up, nothing in flight), a state is
// the servers' record tables, one FIFO channel per direction of each connection, the
// updates not yet sent and the faults left; a choice sends a client's next update,
// delivers a channel's head, or (while allowed) drops a protocol message at a head or
// crashes a server. Flooding: a server that stores a record forwards it to every
// neighbour but the one it came from; a copy of a record a server already holds is
// not forwarded.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

const char* kPair =
    "\"topology\": {\"name\": \"pair\", \"nodes\": [{\"name\": \"n0\", \"port\": 21000}, {\"name\": \"n1\", \"port\": 21001}],"
    " \"links\": [[\"n0\", \"n1\"]]}";
const char* kLine3 =
    "\"topology\": {\"name\": \"line3\", \"nodes\": [{\"name\": \"n0\", \"port\": 21000}, {\"name\": \"n1\", \"port\": 21001},"
    " {\"name\": \"n2\", \"port\": 21002}], \"links\": [[\"n0\", \"n1\"], [\"n1\", \"n2\"]]}";

// A scenario file with `topology` and the explore section `explore` (and `extra` keys).
std::string write_scenario(const TempDir& dir, const std::string& name, const char* topology, const std::string& explore,
                           const std::string& extra = "") {
  const std::string path = dir.path() + "/" + name + ".json";
  REQUIRE(write_text_file(path, "{\"name\": \"" + name + "\", " + topology + ",\n \"duration_ms\": 1000," + extra +
                                    "\n \"explore\": " + explore + "}\n"));
  return path;
}

std::string update(const char* client, const char* server) {
  return std::string("{\"client\": \"") + client + "\", \"server\": \"" + server + "\"}";
}

rapidjson::Document explore_json(const std::string& path, int want_status, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"explore", path, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  BatchRun r = run_herd(args, 60'000);
  REQUIRE_MESSAGE(r.status.code == want_status, (r.out + r.err));
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  REQUIRE_MESSAGE(!d.HasParseError(), r.out);
  return d;
}

TEST_CASE("e2e explore: state counts that theory gives for tiny herds") {
  TempDir dir;
  // Two servers, one update (c0 at n0). States: before it is sent; sent (n0 holds it,
  // its flood in n0->n1); delivered (n1 holds it; n1 forwards to no one). 3 states,
  // 1 end state, 2 transitions, none to a state seen before.
  rapidjson::Document a = explore_json(write_scenario(dir, "a", kPair, "{\"updates\": [" + update("c0", "n0") + "]}"), 0);
  CHECK(a["states"].GetUint64() == 3);
  CHECK(a["end_states"].GetUint64() == 1);
  CHECK(a["transitions"].GetUint64() == 2);
  CHECK(a["revisits"].GetUint64() == 0);
  CHECK(a["complete"].GetBool());
  CHECK_FALSE(a["violated"].GetBool());

  // Two servers, two clients: c0 at n0 and c1 at n1. Each update goes through three
  // stages (not sent, in flight, delivered) on its own channel, independently of the
  // other: 3 x 3 = 9 states, 1 end state. Each state offers one step per update not
  // yet delivered; an update is undelivered in 2 x 3 of the states, so 2 x 6 = 12
  // transitions, of which 12 - (9 - 1) = 4 reach a state seen before.
  rapidjson::Document b = explore_json(
      write_scenario(dir, "b", kPair, "{\"updates\": [" + update("c0", "n0") + ", " + update("c1", "n1") + "]}"), 0);
  CHECK(b["states"].GetUint64() == 9);
  CHECK(b["end_states"].GetUint64() == 1);
  CHECK(b["transitions"].GetUint64() == 12);
  CHECK(b["revisits"].GetUint64() == 4);

  // Two servers, one client with two updates: u0 at n0, then u1 (newer) at n1. u1 is
  // sent only after u0. States: nothing sent (1); u0 in flight n0->n1 with u1 not
  // sent, in flight n1->n0, or delivered (3); u0 delivered with u1 not sent, in
  // flight, or delivered (3): 7. When u1 was sent first, u0 arrives at n1 stale and
  // is not stored: n1 holds u1 either way, so "u0 delivered" merges with "u0 dropped
  // as stale" by the state hash. 1 end state (both servers hold u1).
  rapidjson::Document c = explore_json(
      write_scenario(dir, "c", kPair, "{\"updates\": [" + update("c0", "n0") + ", " + update("c0", "n1") + "]}"), 0);
  CHECK(c["states"].GetUint64() == 7);
  CHECK(c["end_states"].GetUint64() == 1);

  // A line n0 - n1 - n2, one update at the middle: n1 floods to n0 and n2 at once;
  // the two copies are delivered in either order. States: not sent; sent (both in
  // flight); then {n0 has it or not} x {n2 has it or not} after the send: 1 + 4 = 5.
  rapidjson::Document d = explore_json(write_scenario(dir, "d", kLine3, "{\"updates\": [" + update("c0", "n1") + "]}"), 0);
  CHECK(d["states"].GetUint64() == 5);
  CHECK(d["end_states"].GetUint64() == 1);
  CHECK(d["transitions"].GetUint64() == 5);
}

TEST_CASE("e2e explore: a lost update with sync off is found, and its trace replays to it") {
  TempDir dir;
  // Two servers, sync off, one update, one drop allowed. States: the 3 above, and the
  // flood dropped (n1 never hears): 4, of which 2 end states; the second violates
  // liveness (n1 lacks c0's newest record).
  const std::string path =
      write_scenario(dir, "lost", kPair, "{\"updates\": [" + update("c0", "n0") + "], \"drops\": 1}",
                     " \"sync\": {\"mode\": \"off\"},");
  const std::string trace = dir.path() + "/lost.trace";
  rapidjson::Document r = explore_json(path, 1, {"--trace", trace});
  CHECK(r["states"].GetUint64() == 4);
  CHECK(r["end_states"].GetUint64() == 2);
  CHECK(r["violated"].GetBool());
  CHECK_FALSE(r["complete"].GetBool());
  CHECK(std::string(r["violation"].GetString()) ==
        "liveness: at the end, server n1 holds no record of client c0, whose newest is update 0 (acknowledged by n0)");
  REQUIRE(r["order"].Size() == 2);
  CHECK(std::string(r["order"][0].GetString()).find("send update 0: IAMAT c0 ") == 0);
  CHECK(std::string(r["order"][1].GetString()).find("drop n0 -> n1: FLOOD 1 AT n0 ") == 0);
  CHECK(std::string(r["trace"].GetString()) == trace);

  // herd replay feeds the recorded inputs to fresh nodes: every output and the final
  // state (n0 with the record, n1 without) match.
  BatchRun replay = run_herd({"replay", trace}, 30'000);
  CHECK(replay.status.code == 0);
  CHECK(replay.out.find("every output matches, final state digest matches") != std::string::npos);
  // In the trace, n0 takes the IAMAT and n1 never takes a line that carries c0.
  bool iamat_at_n0 = false, c0_at_n1 = false;
  for (const std::string& line : split_lines(read_text_file(trace))) {
    rapidjson::Document in;
    in.Parse(line.c_str());
    REQUIRE(!in.HasParseError());
    if (!in.HasMember("node") || !in.HasMember("text") || !in["text"].IsString()) continue;
    const std::string node = in["node"].GetString(), text = in["text"].GetString();
    iamat_at_n0 = iamat_at_n0 || (node == "n0" && text.find("IAMAT c0 ") == 0);
    c0_at_n1 = c0_at_n1 || (node == "n1" && text.find(" c0 ") != std::string::npos);
  }
  CHECK(iamat_at_n0);
  CHECK_FALSE(c0_at_n1);

  // The same herd with no drop allowed: every state explored, no violation.
  rapidjson::Document ok = explore_json(
      write_scenario(dir, "kept", kPair, "{\"updates\": [" + update("c0", "n0") + "]}", " \"sync\": {\"mode\": \"off\"},"), 0);
  CHECK(ok["complete"].GetBool());
  CHECK(ok["trace"].IsNull());
  // The text form says the same.
  BatchRun text = run_herd({"explore", path}, 30'000);
  CHECK(text.status.code == 1);
  CHECK(text.out.find("  states        4  (end states 2, transitions 3, revisits 0, longest order 2)\n") != std::string::npos);
  CHECK(text.out.find("  result        VIOLATION: liveness: ") != std::string::npos);
  // Cut short at --max-states: nothing proven, exit 1.
  BatchRun cut = run_herd({"explore", write_scenario(dir, "cut", kLine3, "{\"updates\": [" + update("c0", "n1") + "]}"),
                           "--max-states", "2"}, 30'000);
  CHECK(cut.status.code == 1);
  CHECK(cut.out.find("  result        INCOMPLETE: stopped at --max-states 2; nothing proven\n") != std::string::npos);
}

TEST_CASE("e2e explore: a crash that takes the only copy on its way is found, and replays with the crash") {
  TempDir dir;
  // A line n0 - n1 - n2, one update at n0, one crash allowed. Without a crash: the 4
  // states of the chain (not sent, at n0, at n1, at n2). A crash is a choice wherever
  // something is left to do: of n0, n1 or n2 before the send, at n0 or at n1 while the
  // copy travels; crashed servers stay down. Depth first, the first order that breaks
  // liveness crashes n1 while it holds the copy for n2 (with n1 down, n2 is cut off).
  const std::string path = write_scenario(dir, "crash", kLine3, "{\"updates\": [" + update("c0", "n0") + "], \"crashes\": 1}");
  const std::string trace = dir.path() + "/crash.trace";
  rapidjson::Document r = explore_json(path, 1, {"--trace", trace});
  CHECK(r["violated"].GetBool());
  CHECK(std::string(r["violation"].GetString()) ==
        "liveness: at the end, server n2 holds no record of client c0, whose newest is update 0 (acknowledged by n0)");
  REQUIRE(r["order"].Size() == 3);
  CHECK(std::string(r["order"][2].GetString()) == "crash n1");
  BatchRun replay = run_herd({"replay", trace}, 30'000);
  CHECK(replay.status.code == 0);
  CHECK(replay.out.find("every output matches, final state digest matches") != std::string::npos);
  CHECK(read_text_file(trace).find("\"node\":\"n1\",\"in\":\"crash\"") != std::string::npos);
}

TEST_CASE("e2e explore: the shipped examples: a ring of four survives one drop, a line of three does not") {
  // In a ring every pair of servers has two disjoint paths, so one lost copy of a
  // flood never stops an update; in a line it does.
  rapidjson::Document ring = explore_json(herd_root() + "/sim/scenarios/explore_ring4.json", 0);
  CHECK(ring["complete"].GetBool());
  CHECK(ring["end_states"].GetUint64() == 2);  // Both updates everywhere; the drop used or not.
  rapidjson::Document line = explore_json(herd_root() + "/sim/scenarios/explore_lost.json", 1);
  CHECK(line["violated"].GetBool());
  CHECK(std::string(line["violation"].GetString()).find("liveness: at the end, server ") == 0);
}

TEST_CASE("e2e explore: bad input exits 2 naming the file, the line and the key") {
  TempDir dir;
  std::string path = write_scenario(dir, "drops", kPair, "{\n  \"drops\": 9}");
  BatchRun r = run_herd({"explore", path});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + path + ": line 4: explore.drops: must be an integer in 0..4\n");
  path = write_scenario(dir, "who", kPair, "{\"updates\": [\n  {\"client\": \"c0\", \"server\": \"n9\"}]}");
  r = run_herd({"explore", path});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + path + ": line 4: explore.updates[0].server: no server \"n9\" in the topology\n");
  path = write_scenario(dir, "key", kPair, "{\"updates\": [], \"dorps\": 1}");
  r = run_herd({"explore", path});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + path + ": line 3: explore.dorps: unknown key (expected one of: updates, drops, crashes)\n");
  r = run_herd({"explore", herd_root() + "/sim/scenarios/replay_small.json"});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + herd_root() + "/sim/scenarios/replay_small.json: topology: 5 servers; herd explore takes at most 4\n");
  r = run_herd({"explore", path, "--max-states", "0"});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: --max-states: expected an integer in 1..5000000, got \"0\"\n");
}

}  // namespace
}  // namespace herd::e2e
