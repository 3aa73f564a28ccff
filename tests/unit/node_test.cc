// The node core driven with no sockets and no clock: lines and times in, effects out.
#include <doctest/doctest.h>

#include "node/node.h"
#include "node/peer_wire.h"

using namespace herd;

namespace {

constexpr int64_t kT0 = 1621464827959498503LL;  // the client's time in PROTOCOL.md
Now now_at(int64_t wall_ns) { return Now{wall_ns, wall_ns}; }

// Riley's neighbours in the spring 2021 herd, sorted.
Node riley(size_t max_records = 1000, size_t max_pending = 100) {
  return Node(NodeConfig{"Riley", {"Jaquez", "Juzang"}, max_records, max_pending,
                         PlacesApi::kLegacy});
}

Effects feed(Node& n, std::string_view line, int64_t wall_ns = kT0 + 263873386) {
  Effects out;
  n.on_client_line(7, line, now_at(wall_ns), &out);
  return out;
}

std::string only_reply(const Effects& out) {
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == EffectKind::kReply);
  CHECK(out[0].conn == 7);
  return out[0].bytes;
}

}  // namespace

TEST_CASE("IAMAT: the AT line of PROTOCOL.md, floods to every neighbour before the reply") {
  Node n = riley();
  Effects out =
      feed(n, "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503");
  REQUIRE(out.size() == 3);
  const std::string at =
      "AT Riley +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503";
  CHECK(out[0].kind == EffectKind::kSendPeer);
  CHECK(out[0].peer == 0);  // Jaquez
  CHECK(out[0].bytes == "FLOOD 1 " + at);
  CHECK(out[1].kind == EffectKind::kSendPeer);
  CHECK(out[1].peer == 1);  // Juzang
  CHECK(out[2].kind == EffectKind::kReply);
  CHECK(out[2].bytes == at + "\n");
  CHECK(n.records().size() == 1);
}

TEST_CASE("IAMAT: white space variants, fields copied verbatim, negative difference") {
  Node n = riley();
  Effects first = feed(n, "\t IAMAT  kiwi\x0b+1.50-2.250\f1621464827.959498503000 ", kT0 + 1);
  REQUIRE(first.size() == 3);
  CHECK(first[2].bytes == "AT Riley +0.000000001 kiwi +1.50-2.250 1621464827.959498503000\n");
  Node m = riley();
  Effects out = feed(m, "IAMAT kiwi +1.50-2.250 1621464828.9594985039", kT0);
  REQUIRE(out.size() == 3);
  CHECK(out[2].bytes == "AT Riley -1.000000000 kiwi +1.50-2.250 1621464828.9594985039\n");
}

TEST_CASE("IAMAT: an older or equal record is answered but neither stored nor flooded") {
  Node n = riley();
  CHECK(feed(n, "IAMAT c +1+1 100.5").size() == 3);
  std::string r = only_reply(feed(n, "IAMAT c +2+2 100.4", 100'600'000'000LL));
  CHECK(r == "AT Riley +0.200000000 c +2+2 100.4\n");
  r = only_reply(feed(n, "IAMAT c +1+1 100.500", 100'600'000'000LL));
  CHECK(r == "AT Riley +0.100000000 c +1+1 100.500\n");
  CHECK(n.records().find("c")->location() == "+1+1");
  CHECK(n.records().find("c")->time_text() == "100.5");
}

TEST_CASE("invalid lines are echoed verbatim after '? '") {
  Node n = riley();
  const char* bad[] = {
      "IAMAT kiwi +34.068930-118.445127",                    // too few fields
      "IAMAT kiwi +34.068930-118.445127 1621464827.9 extra", // too many
      "IAMAT kiwi 34.068930-118.445127 1621464827.9",        // unsigned latitude
      "IAMAT kiwi +91.0-118.445127 1621464827.9",            // out of range
      "IAMAT kiwi +34.068930-118.445127 yesterday",
      "iamat kiwi +34.068930-118.445127 1621464827.9",       // case-sensitive
      "HELLO",
      "AT Riley +0.263873386 kiwi +34.068930-118.445127 1621464827.9",  // clients may not
      "FLOOD 1 AT Riley +0.263873386 kiwi +34.068930-118.445127 1621464827.9",
      "WHATSAT kiwi 10 5",                                   // unknown client
      "  \tWHATSAT kiwi 10 5  ",
  };
  for (const char* line : bad) {
    CAPTURE(line);
    CHECK(only_reply(feed(n, line)) == std::string("? ") + line + "\n");
  }
  CHECK(n.records().size() == 0);
  CHECK(n.counters().invalid == std::size(bad));
}

TEST_CASE("WHATSAT: validation, then a Places request built from the stored record") {
  Node n = riley();
  feed(n, "IAMAT kiwi +34.068930-118.445127 1621464827.959498503");
  for (const char* line : {"WHATSAT kiwi 0 5", "WHATSAT kiwi 50.01 5", "WHATSAT kiwi 10 0",
                           "WHATSAT kiwi 10 21", "WHATSAT kiwi 10 5.5", "WHATSAT kiwi 10",
                           "WHATSAT kiwi 10 5 5", "WHATSAT nobody 10 5"}) {
    CAPTURE(line);
    CHECK(only_reply(feed(n, line)) == std::string("? ") + line + "\n");
  }
  Effects out = feed(n, "WHATSAT kiwi 10 5");
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == EffectKind::kPlacesRequest);
  CHECK(out[0].conn == 7);
  CHECK(out[0].query.lat == "34.068930");
  CHECK(out[0].query.lng == "-118.445127");
  CHECK(out[0].query.radius_m == 10000);
  CHECK(out[0].query.bound == 5);
  CHECK(n.pending_places() == 1);
}

TEST_CASE("WHATSAT: the reply is the stored AT line, the shaped body, then a blank line") {
  Node n = riley();
  feed(n, "IAMAT kiwi +34.068930-118.445127 1621464827.959498503");
  Effects out = feed(n, "WHATSAT kiwi 10 1");
  REQUIRE(out.size() == 1);
  RequestId req = out[0].request;
  PlacesResult ok{true, 200, "{\n   \"results\" : [ 1, 2 ],\n\n   \"status\" : \"OK\"\n}\n\n", ""};
  Effects done;
  n.on_places_result(req, ok, now_at(kT0), &done);
  REQUIRE(done.size() == 1);
  CHECK(done[0].kind == EffectKind::kReply);
  CHECK(done[0].request == req);
  const std::string at_line =
      "AT Riley +0.263873386 kiwi +34.068930-118.445127 1621464827.959498503";
  CHECK(done[0].bytes == at_line + "\n" + places_reply_body(PlacesApi::kLegacy, ok, 1) + "\n\n");
  CHECK(done[0].bytes.substr(0, at_line.size() + 1) == at_line + "\n");
  CHECK(done[0].bytes.size() > at_line.size() + 3);
  CHECK(done[0].bytes.compare(done[0].bytes.size() - 3, 3, "}\n\n") == 0);
  CHECK(n.pending_places() == 0);
  // A second result for the same request (or one lost in a crash) is ignored.
  Effects again;
  n.on_places_result(req, ok, now_at(kT0), &again);
  CHECK(again.empty());
}

TEST_CASE("WHATSAT: Places failures still answer with the AT line and UNKNOWN_ERROR") {
  Node n = riley();
  feed(n, "IAMAT kiwi +1+1 10");
  Effects out = feed(n, "WHATSAT kiwi 1 1");
  Effects done;
  n.on_places_result(out[0].request, PlacesResult{false, 0, "", "timed out"}, now_at(kT0), &done);
  REQUIRE(done.size() == 1);
  CHECK(done[0].bytes.find("AT Riley ") == 0);
  CHECK(done[0].bytes.find("UNKNOWN_ERROR") != std::string::npos);
}

TEST_CASE("limits: a full table refuses new clients with '?', pending Places are capped") {
  Node n = riley(1, 1);
  feed(n, "IAMAT a +1+1 10");
  CHECK(feed(n, "IAMAT a +1+1 11").size() == 3);  // a known client still updates
  Effects out = feed(n, "IAMAT b +1+1 10");
  REQUIRE(out.size() == 2);
  CHECK(out[0].kind == EffectKind::kLog);
  CHECK(out[1].bytes == "? IAMAT b +1+1 10\n");
  CHECK(n.counters().table_full == 1);
  CHECK(feed(n, "WHATSAT a 1 1")[0].kind == EffectKind::kPlacesRequest);
  Effects busy = feed(n, "WHATSAT a 1 1");
  REQUIRE(busy.size() == 2);
  CHECK(busy[1].kind == EffectKind::kReply);
  CHECK(busy[1].bytes.find("AT Riley +") == 0);
  CHECK(busy[1].bytes.find("UNKNOWN_ERROR") != std::string::npos);
}

TEST_CASE("peer floods: stored and forwarded to all but the sender, hops counted") {
  Node n = riley();
  const std::string at = "AT Bernard +0.100000000 kiwi +1+1 100";
  Effects out;
  n.on_peer_message(1, make_flood(2, at), now_at(kT0), &out);  // from Juzang
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == EffectKind::kSendPeer);
  CHECK(out[0].peer == 0);  // Jaquez only
  CHECK(out[0].bytes == make_flood(3, at));
  REQUIRE(n.records().find("kiwi"));
  CHECK(n.records().find("kiwi")->at_line() == at);
  // The same record again (by another path) is stale: nothing is sent.
  out.clear();
  n.on_peer_message(0, make_flood(2, at), now_at(kT0), &out);
  CHECK(out.empty());
  CHECK(n.counters().floods_stale == 1);
  // A WHATSAT answers with the origin's AT line, untouched.
  Effects w = feed(n, "WHATSAT kiwi 1 1");
  Effects done;
  n.on_places_result(w[0].request, PlacesResult{false, 0, "", "x"}, now_at(kT0), &done);
  CHECK(done[0].bytes.substr(0, at.size() + 1) == at + "\n");
}

TEST_CASE("peer floods: malformed messages are logged and ignored") {
  Node n = riley();
  for (const char* m : {"FLOOD 1 AT Bernard 0.1 kiwi +1+1 100", "HELLO", "FLOOD 1 junk",
                        "FLOOD 0 AT Bernard +0.100000000 kiwi +1+1 100"}) {
    Effects out;
    n.on_peer_message(0, m, now_at(kT0), &out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].kind == EffectKind::kLog);
  }
  CHECK(n.records().size() == 0);
  CHECK(n.counters().floods_bad == 4);
}

TEST_CASE("ties: every server settles on the same record whatever the arrival order") {
  const std::string a = "AT Jaquez +0.000000000 c +1+1 100";
  const std::string b = "AT Riley +0.000000000 c +1+1 100";  // same time, larger name
  Node x = riley(), y = riley();
  Effects out;
  x.on_peer_message(0, make_flood(1, a), now_at(kT0), &out);
  x.on_peer_message(1, make_flood(1, b), now_at(kT0), &out);
  y.on_peer_message(1, make_flood(1, b), now_at(kT0), &out);
  y.on_peer_message(0, make_flood(1, a), now_at(kT0), &out);
  CHECK(x.records().find("c")->at_line() == b);
  CHECK(y.records().find("c")->at_line() == b);
}

TEST_CASE("crash loses records and pending requests; late results are ignored") {
  Node n = riley();
  feed(n, "IAMAT kiwi +1+1 10");
  Effects w = feed(n, "WHATSAT kiwi 1 1");
  n.crash();
  CHECK(n.records().size() == 0);
  CHECK(n.pending_places() == 0);
  Effects done;
  n.on_places_result(w[0].request, PlacesResult{true, 200, "{}", ""}, now_at(kT0), &done);
  CHECK(done.empty());
  CHECK(only_reply(feed(n, "WHATSAT kiwi 1 1")) == "? WHATSAT kiwi 1 1\n");
}

TEST_CASE("a node with no neighbours floods nowhere; peer_index finds sorted peers") {
  Node alone(NodeConfig{"Solo", {}, 10, 10, PlacesApi::kLegacy});
  Effects out;
  alone.on_client_line(1, "IAMAT c +1+1 1", now_at(kT0), &out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == EffectKind::kReply);
  Node n = riley();
  CHECK(n.peer_index("Jaquez") == 0);
  CHECK(n.peer_index("Juzang") == 1);
  CHECK(n.peer_index("Bernard") == -1);
}
