// HtmlRun (sim/html_report.h): which updates it draws, how it pairs a message's send
// with its receipt, and what the page it renders holds.
#include <string>

#include <doctest/doctest.h>

#include "sim/html_report.h"

namespace herd {
namespace {

std::string at(int i) { return "AT a +0.1 c" + std::to_string(i) + " +1+1 " + std::to_string(1000 + i) + ".0"; }

}  // namespace

TEST_CASE("html run: past the cap, drawn updates stay spread over the whole run, and the count left out is known") {
  HtmlRun run({"a", "b"}, {{0, 1}});
  for (int i = 0; i < 1000; ++i) {
    run.update(0, i * 1000, at(i));
    run.store(0, i * 1000, at(i), 'c', 0);
  }
  CHECK(run.updates() == 1000);
  REQUIRE(run.drawn().size() <= kHtmlUpdatesMax);
  CHECK(run.drawn().size() >= kHtmlUpdatesMax / 2);
  CHECK(run.drawn().front().index == 0);
  CHECK(run.drawn().back().index >= 1000 - 1000 / (kHtmlUpdatesMax / 2));  // Reaches the end of the run.
  const std::string page = render_run_html(run, std::nullopt, HtmlMeta{"t", "s", ""});
  CHECK(page.find(std::to_string(run.drawn().size()) + " of 1000 updates drawn (" +
                  std::to_string(1000 - run.drawn().size()) + " left out") != std::string::npos);
}

TEST_CASE("html run: a receipt pairs with the earliest copy in flight on its link; the rest are lost") {
  HtmlRun run({"a", "b", "c"}, {{0, 1}, {1, 2}});
  run.update(0, 0, at(1));
  run.store(0, 0, at(1), 'c', 0);
  run.send(0, 1, 10, "FLOOD 1 " + at(1));
  run.send(0, 1, 20, "FLOOD 1 " + at(1));  // A duplicate.
  run.send(1, 2, 30, "SYNC REC 4 " + at(1));
  run.send(0, 1, 35, "HB");
  run.receive(0, 1, 40, "FLOOD 1 " + at(1));
  run.store(1, 40, at(1), 'f', 1);
  run.receive(0, 1, 45, "HB");
  REQUIRE(run.drawn().size() == 1);
  const HtmlUpdate& u = run.drawn()[0];
  REQUIRE(u.messages.size() == 3);
  CHECK(u.messages[0].recv_ns == 40);
  CHECK(u.messages[0].hops == 1);
  CHECK(u.messages[1].recv_ns == -1);
  CHECK(u.messages[2].kind == 's');
  CHECK(u.messages[2].recv_ns == -1);
  CHECK(u.stores.size() == 2);
  CHECK(run.link(0, 1).sent == 3);
  CHECK(run.link(0, 1).received == 2);
  CHECK(run.carried_messages() == 3);
  CHECK(run.latency_ns()[1].size() == 1);
  CHECK(run.latency_ns()[1][0] == 40);
}

TEST_CASE("html run: faults are shaded until what heals them; the data cannot end its script element") {
  HtmlRun run({"a", "b"}, {{0, 1}});
  run.seen(0);
  run.fault(100, "cut a b", false);
  run.fault(300, "heal a b", true);
  run.update(0, 5, "AT a +0.1 c</script> +1+1 1.0");
  run.seen(1000);
  REQUIRE(run.faults().size() == 2);
  CHECK(run.faults()[0].to_ns == 300);
  CHECK(run.faults()[1].from_ns == run.faults()[1].to_ns);
  const std::string page = render_run_html(run, std::nullopt, HtmlMeta{"t", "s", ""});
  CHECK(page.find("c</script>") == std::string::npos);
  CHECK(page.find("c<\\/script>") != std::string::npos);
  CHECK(page.find("class=\"fault\"") != std::string::npos);  // In the fault timeline.
}

}  // namespace herd
