// The HTML report (sim/html_report.h) as a person sees it: rendered by headless
// Chromium (HERD_CHROMIUM, default `chromium`, which `make browser-deps` installs),
// its DOM dumped after the script ran, and a screenshot taken. Checked: one lane per
// server, as many arrows for the chosen update as the trace shows messages of it,
// the partition shaded, the checks table, no script error; for a simulated run, a
// live one, and a sweep's lines.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

std::string chromium() {
  const char* env = std::getenv("HERD_CHROMIUM");
  return env != nullptr && *env != '\0' ? env : "chromium";
}

// Runs a shell command; its stdout.
std::string shell(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  *status = pclose(pipe);
  return out;
}

std::string browser(const TempDir& dir, const std::string& page, const std::string& what) {
  return "timeout 120 '" + chromium() + "' --headless --disable-gpu --no-sandbox --hide-scrollbars " +
         "--user-data-dir='" + dir.path() + "/profile' --virtual-time-budget=5000 " + what + " 'file://" + page +
         "' 2>/dev/null";
}

// The DOM after the page's script ran.
std::string dump_dom(const TempDir& dir, const std::string& page) {
  int status = 0;
  const std::string dom = shell(browser(dir, page, "--dump-dom"), &status);
  REQUIRE_MESSAGE(WIFEXITED(status), "chromium did not exit");
  REQUIRE_MESSAGE(WEXITSTATUS(status) == 0, "chromium failed (is it installed? make browser-deps)");
  return dom;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The value of attribute `name` in the element with id `id` ("" when absent).
std::string attribute(const std::string& dom, const std::string& id, const std::string& name) {
  const size_t tag = dom.rfind('<', dom.find("id=\"" + id + "\""));
  if (tag == std::string::npos) return "";
  const size_t end = dom.find('>', tag);
  const std::string element = dom.substr(tag, end - tag);
  const size_t at = element.find(" " + name + "=\"");
  if (at == std::string::npos) return "";
  const size_t from = at + name.size() + 3;
  return element.substr(from, element.find('"', from) - from);
}

std::string unescape(std::string s) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&amp;", "&"}}) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  }
  return s;
}

// Peer messages carrying `at_line` that the trace shows arriving (FLOOD and SYNC REC).
size_t received_in_trace(const std::string& trace, const std::string& at_line) {
  size_t n = 0;
  for (const std::string& line : split_lines(trace)) {
    if (line.find("\"in\":\"line\"") == std::string::npos || line.find(at_line) == std::string::npos) continue;
    if (line.find("\"text\":\"FLOOD ") != std::string::npos || line.find("\"text\":\"SYNC REC ") != std::string::npos) ++n;
  }
  return n;
}

// What every run's page must show: rendered, no script error, a lane per server,
// the chosen update's arrows matching the trace, fault shading, the checks.
void check_run_page(const TempDir& dir, const std::string& page, const std::string& trace_path, size_t servers,
                    bool expect_lost, bool screenshot) {
  const std::string dom = dump_dom(dir, page);
  CHECK(attribute(dom, "herd-body", "data-rendered") == "yes");
  CHECK(dom.find("<div id=\"script-errors\" hidden=\"\"></div>") != std::string::npos);  // No error written.
  CHECK(count(dom, "class=\"lane\"") == servers);
  CHECK(count(dom, "class=\"lane-label\"") == servers);
  const std::string line = unescape(attribute(dom, "spacetime", "data-line"));
  REQUIRE(line.starts_with("AT "));
  const size_t drawn = std::stoul(attribute(dom, "spacetime", "data-messages"));
  const size_t lost = count(dom, "class=\"msg lost\"");
  const size_t arrived = count(dom, "class=\"msg\"") + count(dom, "class=\"msg sync\"");
  CHECK(arrived + lost == drawn);
  CHECK(arrived == received_in_trace(read_text_file(trace_path), line));
  CHECK(arrived >= servers - 1);  // Every server but its origin got it at least once.
  if (expect_lost) CHECK(lost > 0);  // Copies into the partition, cut.
  CHECK(count(dom, "class=\"fault\"") >= 1);
  CHECK(dom.find("<table id=\"checks\">") != std::string::npos);
  CHECK(dom.find(">converge_after_faults_ms<") != std::string::npos);
  CHECK(dom.find(">residue_max<") != std::string::npos);
  CHECK(dom.find(">FAIL<") == std::string::npos);
  if (!screenshot) return;
  // And a picture of it.
  int status = 0;
  const std::string png = dir.path() + "/shot.png";
  shell(browser(dir, page, "--window-size=1200,1600 --screenshot='" + png + "'"), &status);
  const std::string bytes = read_text_file(png);
  REQUIRE(bytes.size() > 10'000);
  CHECK(bytes.substr(1, 3) == "PNG");
}

}  // namespace

TEST_CASE("html report: herd sim partition_heal --html, and herd report of its trace, in Chromium") {
  TempDir dir;
  const std::string page = dir.path() + "/r.html", trace = dir.path() + "/t.jsonl";
  const BatchRun sim = run_herd({"sim", herd_root() + "/sim/scenarios/partition_heal.json", "--quiet", "--html", page,
                                 "--record", trace});
  REQUIRE_MESSAGE(sim.status.clean(), sim.err);
  const std::string html = read_text_file(page);
  CHECK(html.size() < (size_t{4} << 20));  // A few MiB at most.
  // Nothing from the network: no script, style, image or frame from elsewhere.
  CHECK(html.find(" src=") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("href=\"http") == std::string::npos);
  CHECK(html.find("url(http") == std::string::npos);
  check_run_page(dir, page, trace, 25, true, true);
  // The trace gives the same picture.
  const std::string again = dir.path() + "/again.html";
  const BatchRun report = run_herd({"report", trace, "--html", again});
  REQUIRE_MESSAGE(report.status.clean(), report.err);
  const std::string data = "id=\"herd-data\">";
  CHECK(html.substr(html.find(data)) == read_text_file(again).substr(read_text_file(again).find(data)));
}

TEST_CASE("html report: a live run's recording and its logs, in Chromium") {
  TempDir dir;
  const std::string scenario = dir.path() + "/s.json", trace = dir.path() + "/t.jsonl";
  std::ofstream(scenario) << "{\"topology\": \"" << herd_root() << "/topologies/ring5.json\",\n"
                          << R"("duration_ms": 2000, "drain_ms": 6000,
    "workload": {"clients": 10, "iamat_per_s": 20, "whatsat_per_s": 0},
    "links": {"delay_ms": 5},
    "link_timings": {"heartbeat_ms": 100, "suspect_ms": 300, "idle_timeout_ms": 2000},
    "timeline": [{"at_ms": 400, "partition": [["n0", "n1"]]}, {"at_ms": 1200, "heal_all": true}],
    "expect": {"converge_after_faults_ms": 1500, "residue_max": 0}})";
  const std::string direct = dir.path() + "/direct.html";
  const BatchRun live = run_herd({"run", "--scenario", scenario, "--record", trace, "--html", direct, "--log-dir",
                                  dir.path() + "/logs"},
                                 60'000);
  REQUIRE_MESSAGE(live.status.clean(), live.err);
  const std::string page = dir.path() + "/r.html";
  const BatchRun report = run_herd({"report", trace, "--html", page});
  REQUIRE_MESSAGE(report.status.clean(), report.err);
  check_run_page(dir, page, trace, 5, false, false);
  check_run_page(dir, direct, trace, 5, false, true);
  // From the logs alone: the same lanes, and the chosen update's arrows.
  const std::string from_logs = dir.path() + "/logs.html";
  const BatchRun logs = run_herd({"report", dir.path() + "/logs", "--html", from_logs});
  REQUIRE_MESSAGE(logs.status.clean(), logs.err);
  const std::string dom = dump_dom(dir, from_logs);
  CHECK(attribute(dom, "herd-body", "data-rendered") == "yes");
  CHECK(count(dom, "class=\"lane\"") == 5);
  CHECK(std::stoul(attribute(dom, "spacetime", "data-messages")) >= 4);
}

TEST_CASE("html report: a sweep's lines: a grid of seeds by pass and fail, each with its rerun command") {
  TempDir dir;
  const std::string lines = dir.path() + "/sweep.jsonl";
  std::string text;
  for (int seed = 1; seed <= 6; ++seed) {
    const bool pass = seed != 4;
    text += "{\"seed\":" + std::to_string(seed) + ",\"pass\":" + (pass ? "true" : "false") +
            ",\"checks\":[{\"name\":\"residue_max\",\"figure\":\"" + (pass ? "0.000000" : "0.020000") +
            "\",\"bound\":\"0.000000\",\"pass\":" + (pass ? "true" : "false") + "}],\"digest\":\"00ab\",\"wall_ms\":12.5," +
            "\"rerun\":\"herd sim s.json --seed " + std::to_string(seed) + "\"" +
            (pass ? "" : ",\"failed\":[\"residue_max\"]") + "}\n";
  }
  text += "{\"summary\":{\"seeds\":6,\"failed\":1,\"seeds_per_s\":40.5,\"failing\":[{\"seed\":4,\"rerun\":\"herd sim s.json --seed 4\"}]}}\n";
  REQUIRE(write_text_file(lines, text));
  const std::string page = dir.path() + "/sweep.html";
  const BatchRun report = run_herd({"report", lines, "--html", page});
  REQUIRE_MESSAGE(report.status.clean(), report.err);
  const std::string dom = dump_dom(dir, page);
  CHECK(attribute(dom, "herd-body", "data-rendered") == "yes");
  CHECK(count(dom, "class=\"seed pass\"") == 5);
  CHECK(count(dom, "class=\"seed fail\"") == 1);
  CHECK(dom.find("href=\"#seed-4\"") != std::string::npos);
  CHECK(dom.find("<tr id=\"seed-4\">") != std::string::npos);
  CHECK(dom.find("<code>herd sim s.json --seed 4</code>") != std::string::npos);

  // A bad line names the file, the line and the field, and exits 2.
  REQUIRE(write_text_file(lines, "{\"seed\":1,\"pass\":true,\"rerun\":\"x\"}\n{\"seed\":\"two\",\"pass\":true}\n"));
  const BatchRun bad = run_herd({"report", lines, "--html", page});
  CHECK(bad.status.exited);
  CHECK(bad.status.code == 2);
  CHECK(bad.err == "herd: " + lines + ": line 2: seed: expected an unsigned integer\n");
  REQUIRE(write_text_file(lines, "{\"seed\":1,\"pass\":true,\"rerun\":\"x\",\"checks\":[{\"name\":\"a\",\"pass\":3}]}\n"));
  const BatchRun bad_check = run_herd({"report", lines, "--html", page});
  CHECK(bad_check.status.code == 2);
  CHECK(bad_check.err == "herd: " + lines + ": line 1: checks[0].pass: expected true or false\n");
}

TEST_CASE("html report: inputs it cannot read are usage errors naming the file and line") {
  TempDir dir;
  const std::string page = dir.path() + "/r.html";
  const std::string other = dir.path() + "/x.txt";
  REQUIRE(write_text_file(other, "hello\n"));
  BatchRun r = run_herd({"report", other, "--html", page});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + other + ": line 1: neither a trace (no \"herd_trace\") nor a sweep's line (no \"seed\")\n");
  r = run_herd({"report", other});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: report: expected --html OUT.html\n");
  const std::string trace = dir.path() + "/t.jsonl";
  REQUIRE(write_text_file(trace, "{\"herd_trace\":2}\n"));
  r = run_herd({"report", trace, "--html", page});
  CHECK(r.status.code == 2);
  CHECK(r.err.starts_with("herd: " + trace + ": line 1: "));
  r = run_herd({"report", dir.path(), "--html", page});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + dir.path() + ": no <server>.log file: not a log directory of a live run\n");
}

}  // namespace herd::e2e
