// node/sync.h and node/sync_wire.h: the messages, the table's bucket digests, and
// sessions between real nodes (tests/unit/mini_herd.h) that must leave both tables
// equal, sending only what the other side lacks.
#include "node/sync.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "node/sync_wire.h"
#include "tests/unit/mini_herd.h"

namespace herd {
namespace {

constexpr int64_t kSec = 1'000'000'000;

Topology pair_topology() {
  Topology t;
  t.name = "pair";
  t.nodes = {{"A", "127.0.0.1", 1}, {"B", "127.0.0.1", 2}};
  t.links = {{"A", "B"}};
  return t;
}

Topology line3() {
  Topology t;
  t.name = "line3";
  t.nodes = {{"A", "127.0.0.1", 1}, {"B", "127.0.0.1", 2}, {"C", "127.0.0.1", 3}};
  t.links = {{"A", "B"}, {"B", "C"}};
  return t;
}

std::vector<std::string> table_of(const Node& n) {
  std::vector<std::string> lines;
  n.records().for_each_sorted([&](const Record& r) { lines.emplace_back(r.at_line()); });
  return lines;
}

std::string iamat(const std::string& client, int64_t time_s) {
  return "IAMAT " + client + " +1+1 " + std::to_string(time_s);
}

int count_prefix(const std::vector<std::string>& lines, const std::string& prefix) {
  int n = 0;
  for (const std::string& l : lines) n += l.starts_with(prefix) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("sync wire: every message reads back as written; malformed ones are refused") {
  std::vector<std::string> lines = {
      sync_root(7, 3, 0x0123456789abcdefull),
      sync_done(7),
      sync_sums(7, {{0, 2, 1}, {255, 1, ~uint64_t{0}}}),
      sync_sums(8, {}),
      sync_keys(7, 12, {{5, -3, 9}, {~uint64_t{0}, 1621464827959498503, 0xffffffff}}),
      sync_diff(7, {1, 2, 255}),
      sync_diff(7, {}),
      sync_rec(7, "AT A +0.000000001 c +1+1 10"),
      sync_get(7, {1, 2}),
      sync_end(7, true),
  };
  for (const std::string& line : lines) {
    CAPTURE(line);
    std::optional<SyncMessage> m = parse_sync(line);
    REQUIRE(m);
    CHECK(m->sid == (line.find(" 8") == 9 ? 8u : 7u));
  }
  std::optional<SyncMessage> keys = parse_sync(lines[4]);
  REQUIRE(keys->keys.size() == 2);
  CHECK(keys->bucket == 12);
  CHECK(keys->keys[0] == SyncKey{5, -3, 9});
  CHECK(keys->keys[1].time_ns == 1621464827959498503);
  CHECK(parse_sync(lines[2])->sums[1].hash == ~uint64_t{0});
  CHECK(parse_sync(lines[7])->at_line == "AT A +0.000000001 c +1+1 10");
  CHECK(parse_sync(lines[9])->more);
  for (const char* bad : {"SYNC", "SYNC ROOT", "SYNC ROOT x 1 0123456789abcdef", "SYNC ROOT 1 1 0123",
                          "SYNC ROOT 1 1 0123456789ABCDEF", "SYNC SUMS 1 256:1:0123456789abcdef",
                          "SYNC KEYS 1 3", "SYNC KEYS 1 3 1:2:3", "SYNC END 1 2", "SYNC GET 1",
                          "SYNC  ROOT 1 1 0123456789abcdef", "SYNC NOPE 1", "SYNC REC 1", "SYNC DIFF 1 -1"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_sync(bad));
  }
}

TEST_CASE("record table digests: kept incrementally, equal for equal contents in any order") {
  RecordTable a(100), b(100);
  const char* lines[] = {"AT A +0.000000001 x +1+1 10", "AT A +0.000000001 y +1+1 11",
                         "AT B +0.000000001 x +2+2 12", "AT B +0.000000001 z +1+1 9"};
  for (const char* l : lines) a.offer(*parse_at_line(l));
  for (int i = 3; i >= 0; --i) b.offer(*parse_at_line(lines[i]));
  CHECK(a.size() == 3);
  CHECK(a.root_digest() == b.root_digest());
  for (int bucket = 0; bucket < RecordTable::kBuckets; ++bucket) {
    CHECK(a.bucket_digest(bucket) == b.bucket_digest(bucket));
    CHECK(a.bucket_count(bucket) == b.bucket_count(bucket));
  }
  RecordTable c(100);
  for (int i = 0; i < 3; ++i) c.offer(*parse_at_line(lines[i]));
  CHECK(c.root_digest() != a.root_digest());
  c.offer(*parse_at_line(lines[3]));
  CHECK(c.root_digest() == a.root_digest());
  c.clear();
  CHECK(c.root_digest() == RecordTable(100).root_digest());
}

TEST_CASE("sync: a restarted server catches up the whole table when its link comes back") {
  const Topology t = pair_topology();
  MiniHerd herd(t, nullptr);
  herd.start_all();
  herd.crash(1);  // B
  for (int i = 0; i < 40; ++i) herd.client(0, 100 + static_cast<ConnId>(i), iamat("c" + std::to_string(i), 100 + i));
  herd.restart(1);
  CHECK(herd.node(1).records().size() == 0);
  herd.run_until(herd.now_ns() + 3 * kSec);  // A redials by its backoff; the link comes up.
  REQUIRE(herd.node(0).link(0).up());
  CHECK(table_of(herd.node(1)) == table_of(herd.node(0)));
  CHECK(herd.node(1).records().size() == 40);
  const SyncStats& a = herd.node(0).sync_stats();
  CHECK(a.sessions >= 2);  // At the first start, and at the reconnect.
  CHECK(a.records_sent == 40);
  CHECK(herd.node(1).sync_stats().records_stored == 40);
  // B had nothing: A sent its records without keys, and nothing came back.
  CHECK(count_prefix(herd.lines_to(0, 1), "SYNC KEYS ") == 0);
  CHECK(count_prefix(herd.lines_to(1, 0), "SYNC REC ") == 0);
}

TEST_CASE("sync: when the tables already agree, a session is a ROOT and a DONE") {
  const Topology t = pair_topology();
  MiniHerd herd(t, nullptr);
  herd.start_all();
  for (int i = 0; i < 10; ++i) herd.client(0, 100 + static_cast<ConnId>(i), iamat("c" + std::to_string(i), 100 + i));
  REQUIRE(table_of(herd.node(1)) == table_of(herd.node(0)));  // Flooded.
  const SyncStats before = herd.node(0).sync_stats();
  const size_t to_b = herd.lines_to(0, 1).size(), to_a = herd.lines_to(1, 0).size();
  herd.reset(0, 0);
  herd.run_until(herd.now_ns() + 3 * kSec);
  REQUIRE(herd.node(0).link(0).up());
  const SyncStats& after = herd.node(0).sync_stats();
  CHECK(after.sessions == before.sessions + 1);
  CHECK(after.agreed == before.agreed + 1);
  CHECK(after.records_sent == before.records_sent);
  CHECK(herd.node(1).sync_stats().records_sent == 0);
  // After the new hello: one ROOT to B, one DONE back (and heartbeats at most).
  std::vector<std::string> sent(herd.lines_to(0, 1).begin() + static_cast<ptrdiff_t>(to_b), herd.lines_to(0, 1).end());
  std::vector<std::string> back(herd.lines_to(1, 0).begin() + static_cast<ptrdiff_t>(to_a), herd.lines_to(1, 0).end());
  CHECK(count_prefix(sent, "SYNC ") == 1);
  CHECK(count_prefix(sent, "SYNC ROOT ") == 1);
  CHECK(count_prefix(back, "SYNC ") == 1);
  CHECK(count_prefix(back, "SYNC DONE ") == 1);
}

TEST_CASE("sync: both sides changed while apart: each gets only what it lacks or holds older") {
  const Topology t = pair_topology();
  MiniHerd herd(t, nullptr);
  herd.start_all();
  for (int i = 0; i < 300; ++i) herd.client(0, 100 + static_cast<ConnId>(i), iamat("c" + std::to_string(i), 100));
  herd.reset(0, 0);  // Down until A's backoff runs out: updates on both sides stay there.
  herd.client(0, 900, iamat("c1", 200));   // Newer at A.
  herd.client(1, 901, iamat("c2", 200));   // Newer at B.
  herd.client(1, 902, iamat("new", 150));  // Only at B.
  herd.client(0, 903, iamat("c3", 50));    // Older than what both hold: not stored.
  CHECK(table_of(herd.node(0)) != table_of(herd.node(1)));
  herd.run_until(herd.now_ns() + 3 * kSec);
  REQUIRE(herd.node(0).link(0).up());
  CHECK(table_of(herd.node(0)) == table_of(herd.node(1)));
  CHECK(herd.node(0).records().size() == 301);
  CHECK(herd.node(0).records().find("c2")->origin() == "B");
  CHECK(herd.node(1).records().find("c1")->origin() == "A");
  // Of 301 records, three crossed: c1 to B; c2 and new to A.
  const SyncStats& a = herd.node(0).sync_stats();
  const SyncStats& b = herd.node(1).sync_stats();
  CHECK(a.records_sent + b.records_sent == 3);
  CHECK(a.records_stored + b.records_stored == 3);
}

TEST_CASE("sync: a stored record is flooded on, so a heal repairs servers beyond the link") {
  const Topology t = line3();  // A - B - C
  MiniHerd herd(t, nullptr);
  herd.start_all();
  herd.reset(0, 0);  // A-B down for a while.
  herd.client(0, 500, iamat("far", 300));
  CHECK(herd.node(2).records().find("far") == nullptr);
  herd.run_until(herd.now_ns() + 3 * kSec);
  REQUIRE(herd.node(2).records().find("far") != nullptr);
  CHECK(herd.node(2).records().find("far")->origin() == "A");
}

TEST_CASE("sync: off sends no SYNC message; periodic syncs one neighbour every interval") {
  const Topology t = line3();
  MiniHerd off(t, nullptr, [](NodeConfig& c) { c.sync.mode = SyncMode::kOff; });
  off.start_all();
  off.run_until(off.now_ns() + 12 * kSec);
  CHECK(count_prefix(off.lines_to(0, 1), "SYNC ") == 0);
  CHECK(off.node(1).sync_stats().sessions == 0);

  MiniHerd periodic(t, nullptr, [](NodeConfig& c) {
    c.sync.mode = SyncMode::kPeriodic;
    c.sync.interval_ns = kSec;
  });
  periodic.start_all();
  periodic.run_until(periodic.now_ns() + 10 * kSec + kSec / 2);
  // B has two neighbours and starts one session a second: ten in ten seconds, and
  // one when its link to C came up (B dials C).
  CHECK(periodic.node(1).sync_stats().sessions == 11);
  CHECK(periodic.node(1).sync_stats().agreed == 11);
  CHECK(periodic.node(1).sync_stats().records_sent == 0);
}

TEST_CASE("sync: output is paced at bytes_per_s, and a queue bound cuts a session short, not forever") {
  const Topology t = pair_topology();
  auto tune = [](NodeConfig& c) {
    c.sync.bytes_per_s = 20'000;       // About 400 records a second.
    c.sync.queue_bytes_max = 30'000;   // Less than the whole table at once.
  };
  MiniHerd herd(t, nullptr, tune);
  herd.start_all();
  herd.crash(1);
  for (int i = 0; i < 1000; ++i) herd.client(0, 100 + static_cast<ConnId>(i), iamat("c" + std::to_string(i), 100 + i));
  herd.restart(1);
  herd.run_until(herd.now_ns() + kSec);
  const size_t early = herd.node(1).records().size();
  CHECK(early > 0);
  CHECK(early < 1000);  // Not all at once.
  herd.run_until(herd.now_ns() + 20 * kSec);
  CHECK(herd.node(1).records().size() == 1000);
  CHECK(table_of(herd.node(1)) == table_of(herd.node(0)));
  CHECK(herd.node(0).sync_stats().sessions >= 3);  // Incomplete ones were followed by more.
}

}  // namespace herd
