// The node core driven with no sockets and no clock: inputs and times in, effects
// out (tests/unit/node_harness.h brings its links up the way a host would).
#include <doctest/doctest.h>

#include "node/node.h"
#include "node/peer_wire.h"
#include "tests/unit/node_harness.h"

using namespace herd;
using herd::test::TestNode;
using herd::test::now_at;
using herd::test::only;

namespace {

constexpr int64_t kT0 = 1621464827959498503LL;  // the client's time in PROTOCOL.md

// Riley's neighbours in the spring 2021 herd, sorted; both links up.
TestNode riley(size_t max_records = 1000, size_t max_pending = 100) {
  NodeConfig c;
  c.name = "Riley";
  c.neighbours = {"Jaquez", "Juzang"};
  c.max_records = max_records;
  c.max_pending_places = max_pending;
  c.sync.mode = SyncMode::kOff;
  TestNode n(c);
  n.start_linked(kT0);
  return n;
}

Effects feed(TestNode& n, std::string_view line, int64_t wall_ns = kT0 + 263873386) {
  return n.client(line, wall_ns);
}

std::string only_reply(const Effects& out) {
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == EffectKind::kReply);
  CHECK(out[0].conn == 7);
  return out[0].bytes;
}

}  // namespace

TEST_CASE("IAMAT: the AT line of PROTOCOL.md, floods to every neighbour before the reply") {
  TestNode n = riley();
  Effects out =
      feed(n, "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503");
  REQUIRE(out.size() == 3);
  const std::string at =
      "AT Riley +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503";
  CHECK(out[0].kind == EffectKind::kSend);
  CHECK(out[0].peer == 0);  // Jaquez
  CHECK(out[0].conn == n.conn_of(0));
  CHECK(out[0].traffic == Traffic::kProtocol);
  CHECK(out[0].bytes == "FLOOD 1 " + at);
  CHECK(out[1].kind == EffectKind::kSend);
  CHECK(out[1].peer == 1);  // Juzang
  CHECK(out[2].kind == EffectKind::kReply);
  CHECK(out[2].bytes == at + "\n");
  CHECK(n.node().records().size() == 1);
}

TEST_CASE("IAMAT: white space variants, fields copied verbatim, negative difference") {
  TestNode n = riley();
  Effects first = feed(n, "\t IAMAT  kiwi\x0b+1.50-2.250\f1621464827.959498503000 ", kT0 + 1);
  REQUIRE(first.size() == 3);
  CHECK(first[2].bytes == "AT Riley +0.000000001 kiwi +1.50-2.250 1621464827.959498503000\n");
  TestNode m = riley();
  Effects out = feed(m, "IAMAT kiwi +1.50-2.250 1621464828.9594985039", kT0);
  REQUIRE(out.size() == 3);
  CHECK(out[2].bytes == "AT Riley -1.000000000 kiwi +1.50-2.250 1621464828.9594985039\n");
}

TEST_CASE("IAMAT: an older or equal record is answered but neither stored nor flooded") {
  TestNode n = riley();
  CHECK(feed(n, "IAMAT c +1+1 100.5").size() == 3);
  std::string r = only_reply(feed(n, "IAMAT c +2+2 100.4", 100'600'000'000LL));
  CHECK(r == "AT Riley +0.200000000 c +2+2 100.4\n");
  r = only_reply(feed(n, "IAMAT c +1+1 100.500", 100'600'000'000LL));
  CHECK(r == "AT Riley +0.100000000 c +1+1 100.500\n");
  CHECK(n.node().records().find("c")->location() == "+1+1");
  CHECK(n.node().records().find("c")->time_text() == "100.5");
}

TEST_CASE("invalid lines are echoed verbatim after '? '") {
  TestNode n = riley();
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
  CHECK(n.node().records().size() == 0);
  CHECK(n.node().counters().invalid == std::size(bad));
}

TEST_CASE("WHATSAT: validation, then a Places request built from the stored record") {
  TestNode n = riley();
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
  CHECK(n.node().pending_places() == 1);
}

TEST_CASE("WHATSAT: the reply is the stored AT line, the shaped body, then a blank line") {
  TestNode n = riley();
  feed(n, "IAMAT kiwi +34.068930-118.445127 1621464827.959498503");
  Effects out = feed(n, "WHATSAT kiwi 10 1");
  REQUIRE(out.size() == 1);
  RequestId req = out[0].request;
  PlacesResult ok{true, 200, "{\n   \"results\" : [ 1, 2 ],\n\n   \"status\" : \"OK\"\n}\n\n", ""};
  Effects done = n.places(req, ok, kT0);
  REQUIRE(done.size() == 1);
  CHECK(done[0].kind == EffectKind::kReply);
  CHECK(done[0].request == req);
  const std::string at_line =
      "AT Riley +0.263873386 kiwi +34.068930-118.445127 1621464827.959498503";
  CHECK(done[0].bytes == at_line + "\n" + places_reply_body(PlacesApi::kLegacy, ok, 1) + "\n\n");
  CHECK(done[0].bytes.substr(0, at_line.size() + 1) == at_line + "\n");
  CHECK(done[0].bytes.size() > at_line.size() + 3);
  CHECK(done[0].bytes.compare(done[0].bytes.size() - 3, 3, "}\n\n") == 0);
  CHECK(n.node().pending_places() == 0);
  // A second result for the same request (or one lost in a crash) is ignored.
  CHECK(n.places(req, ok, kT0).empty());
}

TEST_CASE("WHATSAT: Places failures still answer with the AT line and UNKNOWN_ERROR") {
  TestNode n = riley();
  feed(n, "IAMAT kiwi +1+1 10");
  Effects out = feed(n, "WHATSAT kiwi 1 1");
  Effects done = n.places(out[0].request, PlacesResult{false, 0, "", "timed out"}, kT0);
  REQUIRE(done.size() == 1);
  CHECK(done[0].bytes.find("AT Riley ") == 0);
  CHECK(done[0].bytes.find("UNKNOWN_ERROR") != std::string::npos);
}

TEST_CASE("limits: a full table refuses new clients with '?', pending Places are capped") {
  TestNode n = riley(1, 1);
  feed(n, "IAMAT a +1+1 10");
  CHECK(feed(n, "IAMAT a +1+1 11").size() == 3);  // a known client still updates
  Effects out = feed(n, "IAMAT b +1+1 10");
  REQUIRE(out.size() == 2);
  CHECK(out[0].kind == EffectKind::kLog);
  CHECK(out[1].bytes == "? IAMAT b +1+1 10\n");
  CHECK(n.node().counters().table_full == 1);
  CHECK(feed(n, "WHATSAT a 1 1")[0].kind == EffectKind::kPlacesRequest);
  Effects busy = feed(n, "WHATSAT a 1 1");
  REQUIRE(busy.size() == 2);
  CHECK(busy[1].kind == EffectKind::kReply);
  CHECK(busy[1].bytes.find("AT Riley +") == 0);
  CHECK(busy[1].bytes.find("UNKNOWN_ERROR") != std::string::npos);
}

TEST_CASE("peer floods: stored and forwarded to all but the sender, hops counted") {
  TestNode n = riley();
  const std::string at = "AT Bernard +0.100000000 kiwi +1+1 100";
  Effects out = n.peer(1, make_flood(2, at), kT0);  // from Juzang
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == EffectKind::kSend);
  CHECK(out[0].peer == 0);  // Jaquez only
  CHECK(out[0].bytes == make_flood(3, at));
  REQUIRE(n.node().records().find("kiwi"));
  CHECK(n.node().records().find("kiwi")->at_line() == at);
  // The same record again (by another path) is stale: nothing is sent.
  CHECK(n.peer(0, make_flood(2, at), kT0).empty());
  CHECK(n.node().counters().floods_stale == 1);
  // A WHATSAT answers with the origin's AT line, untouched.
  Effects w = feed(n, "WHATSAT kiwi 1 1");
  Effects done = n.places(w[0].request, PlacesResult{false, 0, "", "x"}, kT0);
  CHECK(done[0].bytes.substr(0, at.size() + 1) == at + "\n");
}

TEST_CASE("peer floods: malformed messages are logged and ignored") {
  TestNode n = riley();
  for (const char* m : {"FLOOD 1 AT Bernard 0.1 kiwi +1+1 100", "HELLO", "FLOOD 1 junk",
                        "FLOOD 0 AT Bernard +0.100000000 kiwi +1+1 100", "SYNC ROOT x"}) {
    Effects out = n.peer(0, m, kT0);
    REQUIRE(out.size() == 1);
    CHECK(out[0].kind == EffectKind::kLog);
  }
  CHECK(n.node().records().size() == 0);
  CHECK(n.node().counters().floods_bad == 3);
  CHECK(n.node().counters().peer_bad == 1);
  CHECK(n.node().sync_stats().bad == 1);
}

TEST_CASE("ties: every server settles on the same record whatever the arrival order") {
  const std::string a = "AT Jaquez +0.000000000 c +1+1 100";
  const std::string b = "AT Riley +0.000000000 c +1+1 100";  // same time, larger name
  TestNode x = riley(), y = riley();
  x.peer(0, make_flood(1, a), kT0);
  x.peer(1, make_flood(1, b), kT0);
  y.peer(1, make_flood(1, b), kT0);
  y.peer(0, make_flood(1, a), kT0);
  CHECK(x.node().records().find("c")->at_line() == b);
  CHECK(y.node().records().find("c")->at_line() == b);
}

TEST_CASE("crash loses records and pending requests; late results are ignored") {
  TestNode n = riley();
  feed(n, "IAMAT kiwi +1+1 10");
  Effects w = feed(n, "WHATSAT kiwi 1 1");
  n.crash(kT0);
  CHECK(n.node().records().size() == 0);
  CHECK(n.node().pending_places() == 0);
  // A crashed node hears nothing: inputs are counted and ignored.
  CHECK(n.places(w[0].request, PlacesResult{true, 200, "{}", ""}, kT0).empty());
  CHECK(feed(n, "WHATSAT kiwi 1 1").empty());
  CHECK(n.node().counters().ignored == 2);
  // Started again, it is empty and its links are down until they reconnect: Riley
  // sorts after both neighbours, so it waits for them to dial.
  Effects again = n.start(kT0 + 1);
  CHECK(only(again, EffectKind::kDial).empty());
  CHECK(n.node().link(0).state() == LinkMachine::State::kWaiting);
  CHECK(only_reply(feed(n, "WHATSAT kiwi 1 1")) == "? WHATSAT kiwi 1 1\n");
  CHECK(only(feed(n, "IAMAT kiwi +1+1 20"), EffectKind::kSend).empty());
  CHECK(n.node().link(0).stats().lost_down == 1);
}

TEST_CASE("a node with no neighbours floods nowhere; peer_index finds sorted peers") {
  NodeConfig solo;
  solo.name = "Solo";
  TestNode alone(solo);
  alone.start(kT0);
  Effects out = alone.client("IAMAT c +1+1 1", kT0);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == EffectKind::kReply);
  TestNode n = riley();
  CHECK(n.node().peer_index("Jaquez") == 0);
  CHECK(n.node().peer_index("Juzang") == 1);
  CHECK(n.node().peer_index("Bernard") == -1);
}
