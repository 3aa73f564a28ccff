// The core's limits against hostile input (issue 16), driven with no socket and no
// clock (tests/unit/node_harness.h): the record table's byte bound, and client times
// too far in the future, from a client, a flood or a sync record.
#include <doctest/doctest.h>

#include <string>

#include "node/node.h"
#include "node/peer_wire.h"
#include "node/record.h"
#include "node/sync_wire.h"
#include "tests/unit/node_harness.h"

using namespace herd;
using herd::test::TestNode;
using herd::test::only;

namespace {

constexpr int64_t kNow = 1621464827959498503LL;     // The server's wall clock.
constexpr int64_t kDay = 86'400'000'000'000LL;

TestNode riley(size_t max_record_bytes = 1u << 20, int64_t max_skew_ns = kDay) {
  NodeConfig c;
  c.name = "Riley";
  c.neighbours = {"Jaquez", "Juzang"};
  c.max_record_bytes = max_record_bytes;
  c.max_clock_skew_ns = max_skew_ns;
  c.sync.mode = SyncMode::kOff;
  TestNode n(c);
  n.start_linked(kNow);
  return n;
}

std::string logs(const Effects& out) {
  std::string text;
  for (const Effect& e : only(out, EffectKind::kLog)) text += e.bytes + "\n";
  return text;
}

std::string reply(const Effects& out) {
  const std::vector<Effect> replies = only(out, EffectKind::kReply);
  REQUIRE(replies.size() == 1);
  return replies[0].bytes;
}

// "1621464827.959498503" for POSIX time `ns`.
std::string seconds(int64_t ns) {
  std::string frac = std::to_string(ns % 1'000'000'000);
  return std::to_string(ns / 1'000'000'000) + "." + std::string(9 - frac.size(), '0') + frac;
}

}  // namespace

TEST_CASE("records: the table's bytes are bounded; a new client past the bound gets '?', logged") {
  // Each record: its AT line (about 1060 bytes with a 1000-byte id) + 48.
  TestNode n = riley(/*max_record_bytes=*/4000);
  const std::string loc = "+34.068930-118.445127";
  size_t stored = 0;
  std::string refused;
  for (int i = 0; i < 6; ++i) {
    const std::string id = std::to_string(i) + std::string(1000, 'c');
    const std::string line = "IAMAT " + id + " " + loc + " " + seconds(kNow);
    const Effects out = n.client(line, kNow);
    if (only(out, EffectKind::kSend).size() == 2) {
      ++stored;
      CHECK(reply(out).starts_with("AT Riley "));
    } else {
      CHECK(reply(out) == "? " + line + "\n");
      CHECK(logs(out) == "record table full (4000 bytes): IAMAT refused\n");
      refused = id;
    }
  }
  CHECK(stored == 3);
  CHECK(n.node().records().size() == 3);
  CHECK(n.node().records().bytes() <= 4000);
  CHECK(n.node().records().bytes() == n.node().records().size() * record_cost(
                                          n.node().records().find("0" + std::string(1000, 'c'))->at_line().size()));
  CHECK(n.node().counters().table_full == 3);
  CHECK(n.node().records().find(refused) == nullptr);

  // A known client's newer record of the same size still fits where the old one was.
  const std::string id0 = "0" + std::string(1000, 'c');
  Effects out = n.client("IAMAT " + id0 + " +34.068931-118.445127 " + seconds(kNow + 1), kNow);
  CHECK(only(out, EffectKind::kSend).size() == 2);
  CHECK(n.node().records().find(id0)->location() == "+34.068931-118.445127");
  // One that would grow the table past its bound is refused, and the old one stays.
  const std::string far = "+34." + std::string(800, '0') + "-118.4";  // 700 bytes more than the room.
  const std::string line = "IAMAT " + id0 + " " + far + " " + seconds(kNow + 2);
  out = n.client(line, kNow);
  CHECK(reply(out) == "? " + line + "\n");
  CHECK(n.node().records().find(id0)->location() == "+34.068931-118.445127");
}

TEST_CASE("records: a flooded record past the byte bound is dropped and logged, not flooded on") {
  TestNode n = riley(/*max_record_bytes=*/600);
  const std::string at = "AT Jaquez +0.000000001 " + std::string(600, 'f') + " +1+1 " + seconds(kNow);
  const Effects out = n.peer(0, make_flood(1, at), kNow);
  CHECK(only(out, EffectKind::kSend).empty());
  CHECK(logs(out) == "record table full (600 bytes): record from Jaquez dropped\n");
  CHECK(n.node().records().size() == 0);
}

TEST_CASE("clock skew: a client time more than a day ahead is answered, not stored, not flooded, logged") {
  TestNode n = riley();
  // PROTOCOL.md's plain client, whose clock says the year 2255.
  Effects out = n.client("IAMAT kiwi +34.068930-118.445127 8999999999", kNow);
  CHECK(reply(out).starts_with("AT Riley -7378535171."));
  CHECK(reply(out).ends_with(" kiwi +34.068930-118.445127 8999999999\n"));
  CHECK(only(out, EffectKind::kSend).empty());
  CHECK(logs(out) ==
        "IAMAT from the future: kiwi's client time 8999999999 is more than 86400 s ahead of this "
        "server's clock; answered, not stored\n");
  CHECK(n.node().records().size() == 0);
  CHECK(n.node().counters().future == 1);
  // So a later real report is newer, stored and flooded: the location is not pinned.
  out = n.client("IAMAT kiwi +1+1 " + seconds(kNow), kNow);
  CHECK(only(out, EffectKind::kSend).size() == 2);
  CHECK(n.node().records().find("kiwi")->location() == "+1+1");
}

TEST_CASE("clock skew: the bound is exact, configurable, and 0 means none") {
  TestNode n = riley();
  Effects out = n.client("IAMAT edge +1+1 " + seconds(kNow + kDay), kNow);
  CHECK(only(out, EffectKind::kSend).size() == 2);  // Exactly a day ahead: stored.
  out = n.client("IAMAT past +1+1 " + seconds(kNow + kDay + 1), kNow);
  CHECK(only(out, EffectKind::kSend).empty());      // A nanosecond more: not.
  CHECK(n.node().records().find("past") == nullptr);

  TestNode strict = riley(1u << 20, /*max_skew_ns=*/5'000'000'000);
  out = strict.client("IAMAT a +1+1 " + seconds(kNow + 6'000'000'000), kNow);
  CHECK(logs(out).find("more than 5 s ahead") != std::string::npos);
  CHECK(strict.node().records().size() == 0);

  TestNode none = riley(1u << 20, /*max_skew_ns=*/0);
  out = none.client("IAMAT kiwi +1+1 8999999999", kNow);
  CHECK(only(out, EffectKind::kSend).size() == 2);
  CHECK(none.node().records().size() == 1);
}

TEST_CASE("clock skew: a flood or a sync record from the future is not stored, logged") {
  TestNode n = riley();
  const std::string at = "AT Jaquez +0.000000001 kiwi +1+1 8999999999";
  Effects out = n.peer(0, make_flood(1, at), kNow);
  CHECK(only(out, EffectKind::kSend).empty());  // Not flooded on to Juzang.
  CHECK(logs(out) == "record from Jaquez with client time 8999999999 more than 86400 s ahead: not stored\n");
  out = n.peer(1, sync_rec(1, at), kNow);
  CHECK(logs(out) == "record from Juzang with client time 8999999999 more than 86400 s ahead: not stored\n");
  CHECK(n.node().records().size() == 0);
  CHECK(n.node().counters().future == 2);
  // A record of now from the same neighbour is stored as usual.
  out = n.peer(0, make_flood(1, "AT Jaquez +0.000000001 kiwi +1+1 " + seconds(kNow)), kNow);
  CHECK(only(out, EffectKind::kSend).size() == 1);
  CHECK(n.node().records().size() == 1);
}

TEST_CASE("records: the byte count follows every store, replacement and clear, by either offer") {
  const std::string a = "AT A +0.000000000 c1 +1+1 10", b = "AT A +0.000000000 c2 +1+1 10";
  RecordTable t(100, 2 * record_cost(a.size()));
  CHECK(t.offer(*parse_at_line(a)) == RecordTable::Offer::kStored);
  CHECK(t.offer(*Record::from_at_line(b)) == RecordTable::Offer::kStored);
  CHECK(t.bytes() == 2 * record_cost(a.size()));
  CHECK(t.offer(*Record::from_at_line("AT A +0.000000000 c3 +1+1 10")) == RecordTable::Offer::kFullBytes);
  CHECK(t.offer(*parse_at_line("AT A +0.000000000 c3 +1+1 10")) == RecordTable::Offer::kFullBytes);
  // A replacement of the same size fits; a longer one does not, by either path.
  CHECK(t.offer(*Record::from_at_line("AT B +0.000000000 c1 +2+2 11")) == RecordTable::Offer::kStored);
  CHECK(t.offer(*Record::from_at_line("AT B +0.000000000 c1 +2.5+2 12")) == RecordTable::Offer::kFullBytes);
  CHECK(t.offer(*parse_at_line("AT B +0.000000000 c2 +2.5+2 12")) == RecordTable::Offer::kFullBytes);
  CHECK(t.bytes() == 2 * record_cost(a.size()));
  t.clear();
  CHECK(t.bytes() == 0);
  CHECK(t.offer(*parse_at_line("AT A +0.000000000 c3 +1+1 10")) == RecordTable::Offer::kStored);
}
