// End-to-end limits against hostile clients (issue 16), on loopback: a client that
// never reads its replies, a client that pipelines a great many lines. Each must cost
// the herd bounded memory and the other clients a bounded delay. The figures a person
// wants (memory, latency) are printed; what is asserted is counts and order, never a
// wall time.
//
// Every wait is bounded; every herd is stopped (HerdProcess's destructor).
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "net/client_conn.h"
#include "net/line_stream.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/herd_run_util.h"
#include "tests/e2e/places_e2e_util.h"
#include "tests/e2e/places_standin.h"

namespace herd::e2e {
namespace {

using Steady = std::chrono::steady_clock;

double ms_since(Steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

// A legacy Nearby Search answer of about `bytes` bytes: 20 results with long names.
std::string big_page(size_t bytes) {
  const std::string name(bytes / 20, 'x');
  std::string page = "{\n   \"html_attributions\" : [],\n   \"results\" : [\n";
  for (int i = 0; i < 20; ++i) {
    page += "      {\n         \"name\" : \"" + name + "\",\n         \"place_id\" : \"p" + std::to_string(i) +
            "\"\n      }" + (i < 19 ? ",\n" : "\n");
  }
  return page + "   ],\n   \"status\" : \"OK\"\n}\n";
}

// The stand-in's request count once it has not grown for a second (at most 20 s).
size_t settled_requests(const PlacesStandin& standin) {
  const Steady::time_point deadline = Steady::now() + std::chrono::seconds(20);
  size_t last = standin.request_count();
  Steady::time_point since = Steady::now();
  while (Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const size_t now = standin.request_count();
    if (now != last) {
      last = now;
      since = Steady::now();
    } else if (Steady::now() - since >= std::chrono::seconds(1)) {
      break;
    }
  }
  return last;
}

size_t count_of(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_CASE("e2e limits: a client that never reads starts a bounded number of Places requests; others are served") {
  using namespace places_e2e;
  PlacesStandin standin;
  standin.respond(200, big_page(200'000));
  HerdRun run;
  start_herd(run, standin);
  report(run, "Riley", "wc");
  const size_t baseline = standin.request_count();
  const int64_t rss_before = rss_kb(run.herd.pid());

  // One write of 64 KiB of WHATSATs, 200 KB answers, never read.
  Client attacker;
  REQUIRE(attacker.connect(run.port("Riley")));
  const int small = 4096;
  ::setsockopt(attacker.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  const std::string line = "WHATSAT wc 10 20\n";
  std::string burst;
  while (burst.size() + line.size() <= 64 * 1024) burst += line;
  REQUIRE(attacker.send(burst));
  const size_t started = settled_requests(standin) - baseline;
  const int64_t rss_after = rss_kb(run.herd.pid());

  // The servers that were not attacked answer at once (the loop is not busy).
  for (const std::string server : {"Jaquez", "Juzang"}) {
    const Steady::time_point t0 = Steady::now();
    const std::string t = time_string();
    const std::string reply = exchange(run.port(server), iamat("other", kLoc, t), 10'000);
    CHECK_MESSAGE(is_at_reply(reply, server, "other", kLoc, t), server, " answered ", reply);
    MESSAGE("IAMAT to ", server, " while Riley's client does not read: ", ms_since(t0), " ms");
  }
  MESSAGE("a client that never reads: ", burst.size() / line.size(), " WHATSATs sent, ", started,
          " Places requests started, herd RSS ", rss_before / 1024, " MB -> ", rss_after / 1024, " MB");
  // About output cap / reserve (64), plus the answers that came before the cap was
  // reached: far below the 3855 lines sent.
  const size_t most = (4u << 20) / ClientConn::kPendingReplyReserveBytes + 2;
  CHECK(started >= 1);
  CHECK(started <= most);
  // The replies owed (about `started` x 200 KB) and the log, not 3855 x 200 KB.
  CHECK(rss_after - rss_before < 128 * 1024);

  // Riley goes on serving other clients on other connections, and the lines past the
  // limit were never processed: the log holds only the requests that started.
  const std::string t = time_string();
  CHECK(is_at_reply(exchange(run.port("Riley"), iamat("third", kLoc, t)), "Riley", "third", kLoc, t));
  attacker.close();
  stop_clean(run);
  CHECK(count_of(read_text_file(run.logs.path() + "/Riley.log"), " places-request ") == started);
}

// The connection label ("c7") and log index of the first `in` line containing `marker`.
std::pair<std::string, size_t> first_in(const std::vector<std::string>& log, const std::string& marker) {
  for (size_t i = 0; i < log.size(); ++i) {
    const size_t at = log[i].find(" in c");
    if (at == std::string::npos || log[i].find(marker) == std::string::npos) continue;
    return {log[i].substr(at + 4, log[i].find(' ', at + 4) - at - 4), i};
  }
  return {"", 0};
}

// Busy lines ("in cB") the log holds between an accept and the first line of that
// connection, for the connection whose first line contains `marker`; -1 if not found.
long busy_lines_before(const std::vector<std::string>& log, const std::string& busy, const std::string& marker) {
  const auto [label, in_at] = first_in(log, marker);
  if (label.empty()) return -1;
  long busy_lines = 0;
  for (size_t i = in_at; i-- > 0;) {
    if (log[i].find(" accept " + label + " ") != std::string::npos) return busy_lines;
    if (log[i].find(" in " + busy + " ") != std::string::npos) ++busy_lines;
  }
  return -1;
}

TEST_CASE("e2e limits: a client pipelining 100k IAMATs does not starve another client's line") {
  HerdRun run;
  start_run(run);
  const int port = run.port("Riley");
  constexpr size_t kLines = 100'000;
  Client busy;
  REQUIRE(busy.connect(port));
  std::string lines;
  for (size_t i = 0; i < kLines; ++i) lines += iamat("busy" + std::to_string(i), "+1+1", time_string());
  std::atomic<size_t> replies{0};
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    char buf[1 << 16];
    while (replies.load() < kLines && !stop.load()) {
      pollfd p{busy.fd(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(busy.fd(), buf, sizeof buf, 0);
      if (n <= 0) break;
      replies += static_cast<size_t>(std::count(buf, buf + n, '\n'));
    }
  });
  std::thread writer([&] {
    size_t at = 0;
    while (at < lines.size() && !stop.load()) {
      pollfd p{busy.fd(), POLLOUT, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::send(busy.fd(), lines.data() + at, lines.size() - at, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN) break;
      if (n > 0) at += static_cast<size_t>(n);
    }
  });
  const Steady::time_point start = Steady::now();
  while (replies.load() < 2000 && ms_since(start) < 20'000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Probes while the backlog is worked through: each must be answered before it is done.
  std::vector<double> latencies;
  std::vector<size_t> busy_done;
  for (int probe = 0; probe < 5 && replies.load() < kLines / 2; ++probe) {
    Client other;
    REQUIRE(other.connect(port));
    const std::string t = time_string();
    const std::string id = "probe" + std::to_string(probe);
    const Steady::time_point t0 = Steady::now();
    REQUIRE(other.send(iamat(id, "+2+2", t)));
    const std::string reply = other.read_lines(1, 10'000);
    latencies.push_back(ms_since(t0));
    busy_done.push_back(replies.load());
    CHECK_MESSAGE(is_at_reply(reply, "Riley", id, "+2+2", t), reply);
  }
  const bool busy_finished = [&] {
    while (replies.load() < kLines && ms_since(start) < 60'000) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return replies.load() == kLines;
  }();
  stop = true;
  writer.join();
  reader.join();
  CHECK(busy_finished);
  REQUIRE(!latencies.empty());
  for (size_t done : busy_done) CHECK(done < kLines);
  std::vector<double> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());
  MESSAGE("another client's IAMAT behind 100k pipelined ones: median ", sorted[sorted.size() / 2], " ms, max ",
          sorted.back(), " ms over ", sorted.size(), " probes; the busy client's ", kLines, " replies took ",
          ms_since(start), " ms");
  busy.close();
  stop_clean(run);
  // Order in the log: between a probe's accept and its line, the busy connection got
  // a few turns of kLinesPerTurn lines, not a read's worth (thousands). The fewest over
  // the probes, so that one probe delayed on its way does not decide.
  const std::vector<std::string> log = split_lines(read_text_file(run.logs.path() + "/Riley.log"));
  const std::string busy_label = first_in(log, "IAMAT busy0 ").first;
  REQUIRE(!busy_label.empty());
  long fewest = -1;
  for (size_t probe = 0; probe < latencies.size(); ++probe) {
    const long n = busy_lines_before(log, busy_label, "IAMAT probe" + std::to_string(probe) + " ");
    if (n >= 0 && (fewest < 0 || n < fewest)) fewest = n;
  }
  MESSAGE("busy lines processed between a probe's accept and its line (fewest): ", fewest);
  CHECK(fewest >= 0);
  CHECK(fewest <= static_cast<long>(4 * LineStream::kLinesPerTurn));
}

}  // namespace
}  // namespace herd::e2e
