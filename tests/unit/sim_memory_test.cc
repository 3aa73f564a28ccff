// The run's memory budget (sim/memory_budget.h): a scenario planned past it is
// refused at parse time naming the field and the estimate; a run that grows past it
// during the run stops cut short with a failing max_memory_mb check; the command
// line's --max-memory-mb wins over the file's; the shipped scenarios stay well
// within the default.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "net/files.h"
#include "sim/cli/scenario_file.h"
#include "sim/cli/sim_cli.h"
#include "sim/memory_budget.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace herd {
namespace {

namespace fs = std::filesystem;

std::string root() {
  const char* r = std::getenv("HERD_ROOT");
  return r != nullptr && *r != '\0' ? r : ".";
}

Result<Scenario> parse(const std::string& text, std::optional<uint64_t> max_memory_mb = std::nullopt) {
  return parse_scenario(text, "s.json", root() + "/topologies", load_topology, max_memory_mb);
}

const Check* find_check(const Report& r, const std::string& name) {
  for (const Check& c : r.checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// A million clients at 40,000 servers: 4e10 server-client pairs.
constexpr const char* kHuge = R"({"topology": {"random": {"nodes": 40000, "degree": 2}},
  "duration_ms": 1000,
  "workload": {"clients": 1000000,
               "iamat_per_s": 10}})";

TEST_CASE("memory: a scenario planned past its budget is refused at parse time, naming the field") {
  Result<Scenario> s = parse(kHuge);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error() ==
        "s.json: line 3: workload.clients: the run would need about 382017 MiB, over max_memory_mb 4096: "
        "1000000 clients x 40000 servers, server-client pairs 381707 MiB (workload.clients); "
        "40000 servers and 40000 links, servers and links 245 MiB (topology); "
        "about 10 reporting clients' records at each of 40000 servers, records held 56 MiB (workload.clients); "
        "code and libraries, the process 10 MiB; "
        "about 10 updates (iamat_per_s x duration_ms), updates 1 MiB (workload.iamat_per_s); "
        "plan a smaller run or raise max_memory_mb (or --max-memory-mb)");
}

TEST_CASE("memory: the plan counts updates from rates x duration, bursts included") {
  Scenario s = parse(R"({"topology": "ring5.json", "duration_ms": 10000,
      "workload": {"clients": 100, "iamat_per_s": 50,
                   "bursts": [{"at_ms": 1000, "duration_ms": 1000, "iamat_per_s": 1050}]}})")
                   .value();
  const MemoryPlan plan = plan_memory(s);
  CHECK(plan.updates == doctest::Approx(50 * 10 + 1000));
  // Nearly every one of 100 clients reports in 1500 updates.
  CHECK(plan.reported == doctest::Approx(100).epsilon(0.01));
  // A day of a million IAMATs a second is refused, by iamat_per_s.
  Result<Scenario> big = parse(R"({"topology": "ring5.json", "duration_ms": 86400000,
      "workload": {"iamat_per_s": 1000000}})");
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().starts_with("s.json: line 2: workload.iamat_per_s: the run would need about "));
  CHECK(big.error().find("about 86400000000 updates (iamat_per_s x duration_ms), updates ") != std::string::npos);
}

TEST_CASE("memory: max_memory_mb is bounded, and the command line's value wins over the file's") {
  Result<Scenario> low = parse(R"({"topology": "ring5.json", "duration_ms": 10, "max_memory_mb": 8})");
  REQUIRE_FALSE(low.ok());
  CHECK(low.error() == "s.json: line 1: max_memory_mb: must be an integer in 16..1048576");
  const std::string text = R"({"topology": "ring5.json", "duration_ms": 10, "max_memory_mb": 64})";
  CHECK(parse(text).value().max_memory_mb == 64);
  CHECK(parse(text, 128).value().max_memory_mb == 128);
  CHECK(parse(R"({"topology": "ring5.json", "duration_ms": 10})").value().max_memory_mb == kMaxMemoryMbDefault);
  // The huge scenario passes the plan when the budget is large enough.
  CHECK(parse(kHuge, 1 << 20).ok());
  Result<SimFlags> flags = parse_sim_flags({"x.json", "--max-memory-mb", "5"});
  REQUIRE_FALSE(flags.ok());
  CHECK(flags.error() == "--max-memory-mb: expected an integer in 16..1048576, got \"5\"");
  flags = parse_sim_flags({"x.json", "--max-memory-mb=512"});
  REQUIRE(flags.ok());
  CHECK(flags.value().max_memory_mb == 512);
}

// Planned small (a few thousand updates), it grows during the run: every flood
// message waits 30 s in the fault channel, so they pile up in memory.
constexpr const char* kGrows = R"({"topology": "ring5.json", "duration_ms": 1000, "drain_ms": 0,
  "max_memory_mb": 16,
  "workload": {"clients": 10, "iamat_per_s": 20000, "whatsat_per_s": 0},
  "links": {"delay_ms": 30000}})";

TEST_CASE("memory: a run that grows past its budget stops cut short, its max_memory_mb check failing") {
  Result<Scenario> s = parse(kGrows);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
  CHECK(plan_memory(s.value()).total < 16 * kMiB);
  Simulator sim(s.value(), 1);
  const Report r = sim.run();
  const Check* memory = find_check(r, "max_memory_mb");
  REQUIRE(memory != nullptr);
  CHECK_FALSE(memory->pass);
  CHECK(memory->bound == "16");
  CHECK(memory->figure == "18");  // Past 16 MiB at the first look past it.
  CHECK(memory->failure.starts_with("the run was cut short at max_memory_mb 16: it held about 18 MiB at sim time "));
  CHECK(memory->failure.ends_with(" of 1000.000 ms, so its figures cover only part of it; raise max_memory_mb (or "
                                  "--max-memory-mb) or plan a smaller run"));
  CHECK(r.sim_ns < 1000 * kNsPerMs);
  CHECK(r.iamats < 20000);  // Stopped before the workload ended.
  CHECK_FALSE(r.passed());
  // The same run with room for it goes to the end and passes the check.
  Scenario roomy = s.value();
  roomy.max_memory_mb = 256;
  const Report full = Simulator(roomy, 1).run();
  CHECK(find_check(full, "max_memory_mb")->pass);
  CHECK(full.iamats > r.iamats);
  // Deterministic: the same run is cut at the same event.
  const Report again = Simulator(s.value(), 1).run();
  CHECK(again.events == r.events);
}

TEST_CASE("memory: every shipped scenario plans and runs within the default budget") {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(root()) / "sim" / "scenarios")) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    Result<Scenario> s = load_scenario(entry.path().string());
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
    CHECK(s.value().max_memory_mb == kMaxMemoryMbDefault);
    const MemoryPlan plan = plan_memory(s.value());
    CHECK(plan.total < 128 * kMiB);
    Simulator sim(s.value(), s.value().seed.value_or(1));
    const Report r = sim.run();
    const Check* memory = find_check(r, "max_memory_mb");
    REQUIRE(memory != nullptr);
    CHECK(memory->pass);
    // The run's count and the plan agree within a factor of two.
    CHECK(sim.memory_peak_bytes() < 2 * plan.total);
    CHECK(2 * sim.memory_peak_bytes() > plan.total);
    ++count;
  }
  CHECK(count >= 6);
}

}  // namespace
}  // namespace herd
