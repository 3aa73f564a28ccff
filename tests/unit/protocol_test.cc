// Field rules of PROTOCOL.md, checked on the pure functions.
#include <doctest/doctest.h>

#include "node/peer_wire.h"
#include "node/protocol.h"
#include "node/record.h"

using namespace herd;

TEST_CASE("split_fields: any run of space, tab, CR, FF, VT separates; ends are ignored") {
  auto f = split_fields(" \tIAMAT\x0b kiwi \f+1+2\r 5 \t", 7);
  REQUIRE(f.size() == 4);
  CHECK(f[0] == "IAMAT");
  CHECK(f[1] == "kiwi");
  CHECK(f[2] == "+1+2");
  CHECK(f[3] == "5");
  CHECK(split_fields("a b c d e f", 3).size() == 4);  // max + 1 tells "too many"
  CHECK(split_fields("   ", 4).empty());
  CHECK(is_blank(" \t\r\f\x0b"));
  CHECK(is_blank(""));
  CHECK_FALSE(is_blank(" x "));
  CHECK_FALSE(is_field_space('\n'));  // framing removed it; inside a line it is a byte
}

TEST_CASE("parse_location: signed degrees, exact range checks on the digits") {
  auto loc = parse_location("+34.068930-118.445127");
  REQUIRE(loc);
  CHECK(loc->lat == "+34.068930");
  CHECK(loc->lng == "-118.445127");
  CHECK(parse_location("+90-180"));
  CHECK(parse_location("-90.000+180.0000"));
  CHECK(parse_location("+0+0"));
  CHECK(parse_location("+089.5-0179.9"));  // leading zeros are digits, not magnitude
  CHECK(parse_location("+00000000000000000001+2"));
  CHECK_FALSE(parse_location("+090.5-0179.9"));
  CHECK_FALSE(parse_location("+90.0000001+0"));
  CHECK_FALSE(parse_location("+91+0"));
  CHECK_FALSE(parse_location("+0+180.0001"));
  CHECK_FALSE(parse_location("+0-181"));
  CHECK_FALSE(parse_location("34.06-118.44"));   // latitude needs its sign
  CHECK_FALSE(parse_location("+34.06118.44"));   // longitude needs its sign
  CHECK_FALSE(parse_location("+34.-118.4"));
  CHECK_FALSE(parse_location("+.5-118.4"));
  CHECK_FALSE(parse_location("+34.1-118.4x"));
  CHECK_FALSE(parse_location("+34.1-118.4-1"));
  CHECK_FALSE(parse_location("+1e1+2"));
  CHECK_FALSE(parse_location("+100000000000000000000+2"));  // far past 90, no overflow
  CHECK_FALSE(parse_location(""));
  CHECK_FALSE(parse_location("+"));
}

TEST_CASE("parse_time_ns: seconds with an optional fraction, nine decimals kept") {
  CHECK(parse_time_ns("1621464827.959498503") == 1621464827959498503LL);
  CHECK(parse_time_ns("1621464827") == 1621464827000000000LL);
  CHECK(parse_time_ns("1621464827.5") == 1621464827500000000LL);
  CHECK(parse_time_ns("1621464827.9594985039999") == 1621464827959498503LL);
  CHECK(parse_time_ns("+1.000000001") == 1000000001LL);
  CHECK(parse_time_ns("-1.5") == -1500000000LL);
  CHECK(parse_time_ns("0") == 0);
  CHECK(parse_time_ns("8999999999.999999999") == 8999999999999999999LL);
  CHECK_FALSE(parse_time_ns("9000000000"));
  CHECK_FALSE(parse_time_ns("1e9"));
  CHECK_FALSE(parse_time_ns("inf"));
  CHECK_FALSE(parse_time_ns("nan"));
  CHECK_FALSE(parse_time_ns("1621464827."));
  CHECK_FALSE(parse_time_ns(".5"));
  CHECK_FALSE(parse_time_ns("12:30"));
  CHECK_FALSE(parse_time_ns(""));
  CHECK_FALSE(parse_time_ns("99999999999999999999999999"));
}

TEST_CASE("parse_radius_m: 0 < r <= 50 km, metres rounded half up") {
  CHECK(parse_radius_m("10") == 10000);
  CHECK(parse_radius_m("50") == 50000);
  CHECK(parse_radius_m("50.000") == 50000);
  CHECK(parse_radius_m("0.5") == 500);
  CHECK(parse_radius_m("1.2345") == 1235);
  CHECK(parse_radius_m("1.2344999") == 1234);
  CHECK(parse_radius_m("+7") == 7000);
  CHECK(parse_radius_m("0.0001") == 1);  // positive but below a metre: the smallest radius
  CHECK_FALSE(parse_radius_m("0"));
  CHECK_FALSE(parse_radius_m("0.000"));
  CHECK_FALSE(parse_radius_m("50.0001"));
  CHECK_FALSE(parse_radius_m("51"));
  CHECK_FALSE(parse_radius_m("-1"));
  CHECK_FALSE(parse_radius_m("ten"));
  CHECK_FALSE(parse_radius_m("1e1"));
  CHECK_FALSE(parse_radius_m(""));
}

TEST_CASE("parse_bound: an integer 1..20") {
  CHECK(parse_bound("1") == 1);
  CHECK(parse_bound("20") == 20);
  CHECK(parse_bound("05") == 5);
  CHECK(parse_bound("+3") == 3);
  CHECK_FALSE(parse_bound("0"));
  CHECK_FALSE(parse_bound("21"));
  CHECK_FALSE(parse_bound("-1"));
  CHECK_FALSE(parse_bound("2.0"));
  CHECK_FALSE(parse_bound("+"));
  CHECK_FALSE(parse_bound("99999999999999999999"));
}

TEST_CASE("format_time_diff: sign, seconds, exactly nine decimals, integer arithmetic") {
  CHECK(format_time_diff(1621464828223372889LL, 1621464827959498503LL) == "+0.263874386");
  CHECK(format_time_diff(5, 5) == "+0.000000000");
  CHECK(format_time_diff(0, 1500000000) == "-1.500000000");
  CHECK(format_time_diff(3000000000LL, 1) == "+2.999999999");
  // Extreme inputs overflow 64-bit subtraction; the result must still be exact.
  CHECK(format_time_diff(8999999999999999999LL, -8999999999999999999LL) ==
        "+17999999999.999999998");
}

TEST_CASE("strip_plus keeps the minus sign") {
  CHECK(strip_plus("+34.1") == "34.1");
  CHECK(strip_plus("-118.4") == "-118.4");
}

TEST_CASE("Record: parsed from an AT line, views into it") {
  auto r = Record::from_at_line(
      "AT Riley +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503");
  REQUIRE(r);
  CHECK(r->origin() == "Riley");
  CHECK(r->client() == "kiwi.cs.ucla.edu");
  CHECK(r->location() == "+34.068930-118.445127");
  CHECK(r->time_text() == "1621464827.959498503");
  CHECK(r->time_ns() == 1621464827959498503LL);
  CHECK_FALSE(Record::from_at_line("AT Riley 0.1 kiwi +1+1 5"));         // diff needs a sign
  CHECK_FALSE(Record::from_at_line("AT Riley +0.1 kiwi +1+1 5"));        // nine decimals
  CHECK_FALSE(Record::from_at_line("AT Riley +0.100000000 kiwi 1+1 5")); // location
  CHECK_FALSE(Record::from_at_line("AT Riley +0.100000000 kiwi +1+1"));  // missing time
  CHECK_FALSE(Record::from_at_line("XT Riley +0.100000000 kiwi +1+1 5"));
}

TEST_CASE("Record order: time to the nanosecond, then origin name, then location bytes") {
  auto rec = [](const char* line) { return *Record::from_at_line(line); };
  auto base = rec("AT Riley +0.000000000 c +1+1 100.5");
  CHECK(rec("AT Riley +0.000000000 c +1+1 100.500000001").newer_than(base));
  CHECK_FALSE(base.newer_than(rec("AT Riley +0.000000000 c +1+1 100.500000001")));
  // Digits past the ninth decimal are ignored: equal, so neither is newer.
  auto extra = rec("AT Riley +9.000000000 c +1+1 100.5000000009");
  CHECK_FALSE(extra.newer_than(base));
  CHECK_FALSE(base.newer_than(extra));
  // Ties on time go to the larger server name, then the larger location bytes.
  CHECK(rec("AT Zed +0.000000000 c +1+1 100.5").newer_than(base));
  CHECK(base.newer_than(rec("AT Bernard +0.000000000 c +1+1 100.5")));
  CHECK(rec("AT Riley +0.000000000 c +2+1 100.5").newer_than(base));
  CHECK_FALSE(rec("AT Riley +0.000000000 c +0+1 100.5").newer_than(base));
}

TEST_CASE("RecordTable: newest per client, stale refused, full refused") {
  RecordTable t(2);
  auto rec = [](const char* line) { return *Record::from_at_line(line); };
  CHECK(t.offer(rec("AT A +0.000000000 c1 +1+1 10")) == RecordTable::Offer::kStored);
  CHECK(t.offer(rec("AT A +0.000000000 c1 +1+1 9")) == RecordTable::Offer::kStale);
  CHECK(t.offer(rec("AT A +0.000000000 c1 +1+1 10")) == RecordTable::Offer::kStale);
  CHECK(t.offer(rec("AT B +0.000000000 c1 +2+2 11")) == RecordTable::Offer::kStored);
  REQUIRE(t.find("c1"));
  CHECK(t.find("c1")->at_line() == "AT B +0.000000000 c1 +2+2 11");
  CHECK(t.offer(rec("AT A +0.000000000 c2 +1+1 1")) == RecordTable::Offer::kStored);
  CHECK(t.offer(rec("AT A +0.000000000 c3 +1+1 1")) == RecordTable::Offer::kFull);
  CHECK(t.size() == 2);
  CHECK(t.find("c3") == nullptr);
  std::string order;
  t.for_each_sorted([&](const Record& r) { order += std::string(r.client()) + ","; });
  CHECK(order == "c1,c2,");
}

TEST_CASE("RecordTable: a newer line stored over the old one (in place or not) reads and digests as if fresh") {
  // Same size (in place), two bytes longer, two shorter, and much longer (a new block): after each,
  // the table's every view and digest equal a table that only ever held that line.
  const char* lines[] = {"AT A +0.000000001 c1 +1+1 10", "AT A +0.000000002 c1 +1+1 11.5", "AT A +0.000000003 c1 +1+1 12",
                         "AT Bernard +1234567.000000003 c1 +34.068930000-118.445127000 13.5", "AT A +0.000000004 c1 +1+1 14"};
  RecordTable t(10);
  REQUIRE(t.offer(*parse_at_line("AT A +0.000000000 c0 +1+1 1")) == RecordTable::Offer::kStored);
  for (const char* line : lines) {
    const AtFields f = *parse_at_line(line);
    REQUIRE(t.offer(f) == RecordTable::Offer::kStored);
    RecordTable fresh(10);
    REQUIRE(fresh.offer(*parse_at_line("AT A +0.000000000 c0 +1+1 1")) == RecordTable::Offer::kStored);
    REQUIRE(fresh.offer(f) == RecordTable::Offer::kStored);
    const Record* r = t.find("c1");
    REQUIRE(r != nullptr);
    CHECK(r->at_line() == line);
    CHECK(r->origin() == f.origin);
    CHECK(r->client() == "c1");
    CHECK(r->location() == f.location);
    CHECK(r->time_text() == f.time_text);
    CHECK(r->time_ns() == f.time_ns);
    CHECK(t.size() == 2);
    CHECK(t.bytes() == fresh.bytes());
    CHECK(t.root_digest() == fresh.root_digest());
    const int b = RecordTable::bucket_of(RecordTable::hash("c1"));
    CHECK(t.bucket_digest(b) == fresh.bucket_digest(b));
    CHECK(t.bucket_count(b) == fresh.bucket_count(b));
  }
  // A line offered from the stored record's own bytes is copied, not written over itself.
  const std::string own(t.find("c1")->at_line());
  CHECK(t.offer(*parse_at_line(t.find("c1")->at_line())) == RecordTable::Offer::kStale);
  CHECK(t.find("c1")->at_line() == own);
}

TEST_CASE("peer wire: hello and flood round trip, junk refused") {
  CHECK(make_peer_hello("Riley", "Jaquez") == "PEER Riley Jaquez");
  auto h = parse_peer_hello("PEER Riley Jaquez");
  REQUIRE(h);
  CHECK(h->from == "Riley");
  CHECK(h->to == "Jaquez");
  CHECK_FALSE(parse_peer_hello("PEER Riley"));
  CHECK_FALSE(parse_peer_hello("PEER Riley Jaquez x"));
  CHECK_FALSE(parse_peer_hello("peer Riley Jaquez"));
  std::string m = make_flood(3, "AT Riley +0.000000000 c +1+1 5");
  CHECK(m == "FLOOD 3 AT Riley +0.000000000 c +1+1 5");
  auto f = parse_flood(m);
  REQUIRE(f);
  CHECK(f->hops == 3);
  CHECK(f->at_line == "AT Riley +0.000000000 c +1+1 5");
  CHECK_FALSE(parse_flood("FLOOD 0 AT x"));
  CHECK_FALSE(parse_flood("FLOOD x AT x"));
  CHECK_FALSE(parse_flood("FLOOD 12345678 AT x"));
  CHECK_FALSE(parse_flood("FLOOD 3"));
  CHECK_FALSE(parse_flood("AT Riley +0.000000000 c +1+1 5"));
}
