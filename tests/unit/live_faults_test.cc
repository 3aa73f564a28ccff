// net/live_faults.h without servers (find returns null): console answers, the
// timeline on a real loop, affected servers, the sub-seed; and the CLI's fault
// options (sim/cli.h).
#include "net/live_faults.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <uv.h>

#include "node/rng.h"
#include "sim/cli/cli.h"
#include "tests/unit/fault_test_util.h"

namespace herd {
namespace {

struct Rig {
  explicit Rig(FaultSetup setup = {}) {
    uv_loop_init(&loop);
    faults = std::make_unique<LiveFaults>(&loop, test_topology(), std::move(setup),
                                          [](std::string_view) { return nullptr; });
  }
  ~Rig() {
    faults->close();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }
  uv_loop_t loop;
  std::unique_ptr<LiveFaults> faults;
};

TEST_CASE("live faults: console answers end with a newline; blank lines get none") {
  Rig rig;
  LiveFaults& f = *rig.faults;
  CHECK(f.execute("", "stdin").empty());
  CHECK(f.execute(" \t\r", "stdin").empty());
  CHECK(f.execute("help", "stdin") == kConsoleHelp);
  CHECK(f.execute("  cut Riley Jaquez \r", "stdin") == "ok: cut Riley>Jaquez Jaquez>Riley\n");
  CHECK(f.execute("cut Riley>Juzang", "stdin") == "ok: cut Riley>Juzang\n");
  CHECK(f.execute("heal", "stdin") == "ok: healed 3 directed links\n");
  CHECK(f.execute("crash Riley", "stdin") == "ok: crash Riley\n");
  CHECK(f.execute("crash Riley", "stdin") == "error: Riley is already crashed\n");
  CHECK(f.execute("cut Riley Bob", "stdin") ==
        "error: unknown server 'Bob' (servers: Riley, Jaquez, Juzang, Campbell, Bernard)\n");
  CHECK(f.execute("help me", "stdin") == "error: usage: help\n");
  const std::string status = f.execute("status", "stdin");
  CHECK(status.ends_with("\n"));
  std::vector<std::string> lines;
  for (size_t at = 0; at < status.size();) {
    const size_t nl = status.find('\n', at);
    lines.push_back(status.substr(at, nl - at));
    at = nl + 1;
  }
  REQUIRE(lines.size() == 12 + 5);
  CHECK(lines[0].rfind("link Bernard>Campbell conn=down sent=0 ", 0) == 0);
  CHECK(lines.back() == "server Riley records=0 state=crashed");
  CHECK(f.execute("restart Riley", "stdin") == "ok: restart Riley\n");
}

TEST_CASE("live faults: the timeline runs in at_ms order, ties in file order") {
  FaultSetup setup;
  std::vector<std::string> reports;
  setup.report = [&](std::string_view text) { reports.emplace_back(text); };
  auto event = [](int64_t at_ms, ActionKind kind, std::string a, std::string b = "") {
    TimelineEvent e;
    e.at_ms = at_ms;
    e.action.kind = kind;
    e.action.server = a;
    e.action.link = {a, b, false};
    return e;
  };
  setup.plan.timeline = {event(0, ActionKind::kCut, "Riley", "Jaquez"),
                         event(5, ActionKind::kCrash, "Bernard"),
                         event(5, ActionKind::kCrash, "Bernard"),
                         event(8, ActionKind::kRestart, "Bernard")};
  Rig rig(std::move(setup));
  rig.faults->start_timeline();
  rig.faults->start_timeline();  // Once only.
  uv_run(&rig.loop, UV_RUN_DEFAULT);
  CHECK(reports == std::vector<std::string>{
                       "timeline at_ms=0: ok: cut Riley>Jaquez Jaquez>Riley",
                       "timeline at_ms=5: ok: crash Bernard",
                       "timeline at_ms=5: error: Bernard is already crashed",
                       "timeline at_ms=8: ok: restart Bernard"});
}

TEST_CASE("live faults: who logs an action; the sub-seed is the run's first draw") {
  const FaultTopology topology = test_topology();
  FaultAction action;
  action.kind = ActionKind::kCut;
  action.link = {"Jaquez", "Riley", true};
  CHECK(affected_servers(action, topology) == std::vector<std::string>{"Riley", "Jaquez"});
  action.kind = ActionKind::kPartition;
  CHECK(affected_servers(action, topology) == topology.nodes);
  action.kind = ActionKind::kHealAll;
  CHECK(affected_servers(action, topology) == topology.nodes);
  action.kind = ActionKind::kCrash;
  action.server = "Bernard";
  CHECK(affected_servers(action, topology) == std::vector<std::string>{"Bernard"});
  action.kind = ActionKind::kStatus;
  CHECK(affected_servers(action, topology).empty());
  CHECK(fault_sub_seed(7) == Rng(7).draw_seed());
  CHECK(fault_sub_seed(7) != fault_sub_seed(8));
}

Topology five() {
  Topology t;
  for (const std::string& name : test_topology().nodes) t.nodes.push_back({name, "127.0.0.1", 1});
  t.links = test_topology().links;
  return t;
}

TEST_CASE("cli: fault options, and flags over the faults file's link defaults") {
  Result<ServeOptions> parsed = parse_serve_options(
      {"--seed", "18446744073709551615", "--drop", "0.2", "--delay=5-50", "--dup", "0.1",
       "--admin-port", "0", "--faults", "f.json", "--drop", "0.25"});
  REQUIRE(parsed.ok());
  const ServeOptions& o = parsed.value();
  CHECK(o.seed == UINT64_MAX);
  CHECK(o.host.admin_port == 0);
  CHECK(o.faults_path == "f.json");
  CHECK(has_run_only_options(o));
  CHECK_FALSE(has_run_only_options(parse_serve_options({"--port-base", "0"}).value()));
  const std::string text =
      "{\"links\": {\"drop\": 0.5, \"delay_ms\": 10},\n"
      " \"link_overrides\": [{\"link\": \"Riley>Jaquez\", \"drop\": 1}]}";
  Result<FaultSetup> setup = make_fault_setup(o, five(), text);
  REQUIRE(setup.ok());
  CHECK(setup.value().seed == UINT64_MAX);
  CHECK(setup.value().plan.defaults.text() == "drop=0.25 delay=5-50ms dup=0.1");
  REQUIRE(setup.value().plan.overrides.size() == 1);
  ServeOptions plain;
  plain.faults_path = "f.json";
  plain.link_faults.delay = DelayDist::constant(300 * kNsPerMs);
  Result<FaultSetup> mixed = make_fault_setup(plain, five(), text);
  REQUIRE(mixed.ok());
  CHECK(mixed.value().seed == kDefaultSeed);
  CHECK(mixed.value().plan.defaults.text() == "drop=0.5 delay=300ms dup=0");
  CHECK(make_fault_setup(plain, five(), "{\"links\": {\"dorp\": 1}}").error() ==
        "f.json: line 1: links.dorp: unknown key (expected one of: drop, delay_ms, duplicate, bandwidth_kbps)");
  CHECK(parse_serve_options({"--seed", "-1"}).error() ==
        "--seed: expected an integer in 0..18446744073709551615, got \"-1\"");
  CHECK(parse_serve_options({"--delay", "x"}).error().rfind("--delay: bad delay 'x' (", 0) == 0);
  CHECK(parse_serve_options({"--admin-port", "70000"}).error() ==
        "--admin-port: expected an integer in 0..65535, got \"70000\"");
}

}  // namespace
}  // namespace herd
