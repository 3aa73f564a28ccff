#include "sim/scenario.h"

#include <cmath>
#include <utility>

#include <rapidjson/document.h>

#include "node/clock.h"
#include "node/fault_plan.h"
#include "sim/memory_budget.h"
#include "sim/scenario_parse.h"

namespace herd {
namespace {

// Rates above this would schedule more than a client event per microsecond.
constexpr double kRateMax = 1'000'000;
constexpr int64_t kMsMax = 1'000'000'000;  // About eleven days of virtual time.

// Events per second -> the mean interval in ns; 0 per second -> 0 (none).
int64_t interval_of(double per_s) {
  return per_s <= 0 ? 0 : std::max<int64_t>(1, std::llround(1e9 / per_s));
}

uint64_t ppm_of(double fraction) { return static_cast<uint64_t>(std::llround(fraction * 1e6)); }

std::optional<Error> parse_bursts(const JsonField& f, Workload* w) {
  Result<size_t> n = f.expect_array(0, 10000);
  if (!n.ok()) return Error{n.error()};
  int64_t end_ns = 0;
  for (size_t i = 0; i < n.value(); ++i) {
    JsonField b = f.element(i);
    if (auto e = b.expect_object({"at_ms", "duration_ms", "iamat_per_s"})) return e;
    Result<int64_t> at = int_member(b, "at_ms", 0, kMsMax, std::nullopt);
    if (!at.ok()) return Error{at.error()};
    Result<int64_t> duration = int_member(b, "duration_ms", 1, kMsMax, std::nullopt);
    if (!duration.ok()) return Error{duration.error()};
    Result<double> rate = number_member(b, "iamat_per_s", 0, kRateMax, 0);
    if (!rate.ok()) return Error{rate.error()};
    Burst burst{at.value() * kNsPerMs, duration.value() * kNsPerMs, interval_of(rate.value())};
    if (burst.at_ns < end_ns) return b.error("bursts must be in time order and not overlap");
    end_ns = burst.at_ns + burst.duration_ns;
    w->bursts.push_back(burst);
  }
  return std::nullopt;
}

std::optional<Error> parse_workload(const JsonField& f, Workload* w) {
  if (auto e = f.expect_object({"clients", "iamat_per_s", "whatsat_per_s", "moving", "fresh_clients",
                                "client_skew_ms", "server_skew_ms", "places_latency_ms",
                                "places_failure", "bursts"})) {
    return e;
  }
  Result<int64_t> clients = int_member(f, "clients", 1, 1'000'000, 100);
  if (!clients.ok()) return Error{clients.error()};
  w->clients = clients.value();
  Result<double> iamat = number_member(f, "iamat_per_s", 0, kRateMax, 50);
  if (!iamat.ok()) return Error{iamat.error()};
  w->iamat_interval_ns = interval_of(iamat.value());
  Result<double> whatsat = number_member(f, "whatsat_per_s", 0, kRateMax, 5);
  if (!whatsat.ok()) return Error{whatsat.error()};
  w->whatsat_interval_ns = interval_of(whatsat.value());
  if (std::optional<JsonField> moving = f.optional("moving")) {
    if (!moving->value().IsBool()) return moving->error("must be true or false");
    w->moving = moving->value().GetBool();
  }
  if (std::optional<JsonField> fresh = f.optional("fresh_clients")) {
    if (!fresh->value().IsBool()) return fresh->error("must be true or false");
    w->fresh_clients = fresh->value().GetBool();
  }
  Result<int64_t> client_skew = int_member(f, "client_skew_ms", 0, 86'400'000, 0);
  if (!client_skew.ok()) return Error{client_skew.error()};
  w->client_skew_ns = client_skew.value() * kNsPerMs;
  Result<int64_t> server_skew = int_member(f, "server_skew_ms", 0, 86'400'000, 0);
  if (!server_skew.ok()) return Error{server_skew.error()};
  w->server_skew_ns = server_skew.value() * kNsPerMs;
  Result<int64_t> latency = int_member(f, "places_latency_ms", 0, 3'600'000, 50);
  if (!latency.ok()) return Error{latency.error()};
  w->places_latency_ns = latency.value() * kNsPerMs;
  Result<double> failure = number_member(f, "places_failure", 0, 1, 0);
  if (!failure.ok()) return Error{failure.error()};
  w->places_failure_ppm = ppm_of(failure.value());
  if (std::optional<JsonField> bursts = f.optional("bursts")) return parse_bursts(*bursts, w);
  return std::nullopt;
}

// A fraction in [0, 1] under `key`, in parts per million, when present.
std::optional<Error> fraction_member(const JsonField& f, std::string_view key, std::optional<uint64_t>* ppm) {
  if (!f.optional(key)) return std::nullopt;
  Result<double> v = number_member(f, key, 0, 1, 0);
  if (!v.ok()) return Error{v.error()};
  *ppm = ppm_of(v.value());
  return std::nullopt;
}

std::optional<Error> parse_expect(const JsonField& f, Expect* x) {
  if (auto e = f.expect_object({"reached_all_min", "reached_all_or_superseded_min", "residue_max",
                                "latency_max_ms", "msgs_per_update_max", "converge_after_faults_ms",
                                "monotonic_reads_max"})) {
    return e;
  }
  if (f.optional("converge_after_faults_ms")) {
    Result<int64_t> v = int_member(f, "converge_after_faults_ms", 0, kMsMax, 0);
    if (!v.ok()) return Error{v.error()};
    x->converge_after_faults_ns = v.value() * kNsPerMs;
  }
  if (f.optional("monotonic_reads_max")) {
    Result<int64_t> v = int_member(f, "monotonic_reads_max", 0, INT64_MAX, 0);
    if (!v.ok()) return Error{v.error()};
    x->monotonic_reads_max = static_cast<uint64_t>(v.value());
  }
  if (auto e = fraction_member(f, "reached_all_min", &x->reached_all_min_ppm)) return e;
  if (auto e = fraction_member(f, "reached_all_or_superseded_min", &x->reached_all_or_superseded_min_ppm)) return e;
  if (auto e = fraction_member(f, "residue_max", &x->residue_max_ppm)) return e;
  if (f.optional("latency_max_ms")) {
    Result<double> v = number_member(f, "latency_max_ms", 0, 1e9, 0);
    if (!v.ok()) return Error{v.error()};
    x->latency_max_ns = std::llround(v.value() * 1e6);
  }
  if (f.optional("msgs_per_update_max")) {
    Result<double> v = number_member(f, "msgs_per_update_max", 0, 1e9, 0);
    if (!v.ok()) return Error{v.error()};
    x->msgs_per_update_max_milli = static_cast<uint64_t>(std::llround(v.value() * 1000));
  }
  return std::nullopt;
}

// The faults-file part, handed to the link layer's own parser (which refuses keys it
// does not know, so it gets only its three).
Result<FaultPlan> parse_plan(const JsonDoc& doc, const JsonField& root, const Topology& topology) {
  rapidjson::Document plan_doc;
  plan_doc.SetObject();
  for (const char* key : {"links", "link_overrides", "timeline"}) {
    if (!root.value().HasMember(key)) continue;
    rapidjson::Value copy(root.value()[key], plan_doc.GetAllocator());
    plan_doc.AddMember(rapidjson::StringRef(key), copy, plan_doc.GetAllocator());
  }
  Result<FaultPlan> plan =
      parse_fault_plan(json_text_of(plan_doc), doc.source(), fault_topology(topology));
  if (!plan.ok()) return relocate_error(plan.error(), doc.source(), doc, root);
  return plan;
}

// Every timeline event must come due within the run, or it would silently never
// happen. Checked on the file's own entries, so the error names the entry's line.
std::optional<Error> check_timeline_ends(const JsonField& root, const Scenario& s) {
  const std::optional<JsonField> timeline = root.optional("timeline");
  if (!timeline || !timeline->value().IsArray()) return std::nullopt;
  const int64_t end_ms = (s.duration_ns + s.drain_ns) / kNsPerMs;
  for (size_t i = 0; i < timeline->value().Size(); ++i) {
    const JsonField event = timeline->element(i);
    const std::optional<JsonField> at = event.value().IsObject() ? event.optional("at_ms") : std::nullopt;
    if (!at || !at->value().IsInt64() || at->value().GetInt64() <= end_ms) continue;
    return at->error(std::to_string(at->value().GetInt64()) + " is after the run's end at " +
                     std::to_string(end_ms) + " ms (duration_ms " + std::to_string(s.duration_ns / kNsPerMs) +
                     " + drain_ms " + std::to_string(s.drain_ns / kNsPerMs) + ")");
  }
  return std::nullopt;
}

// The field a memory part is sized by, for the error's line: the key when the file
// has it, else the object it would be in.
JsonField field_at(const JsonField& root, const std::string& path) {
  JsonField f = root;
  size_t at = 0;
  while (at < path.size()) {
    const size_t dot = std::min(path.find('.', at), path.size());
    if (!f.value().IsObject()) break;
    std::optional<JsonField> next = f.optional(path.substr(at, dot - at));
    if (!next) break;
    f = *next;
    at = dot + 1;
  }
  return f;
}

// Refuses a scenario whose planned memory is over its budget (sim/memory_budget.h).
std::optional<Error> check_memory_plan(const JsonField& root, const Scenario& s) {
  const MemoryPlan plan = plan_memory(s);
  const uint64_t budget = s.max_memory_mb * kMiB;
  if (plan.total <= budget) return std::nullopt;
  std::string what = "the run would need about " + mib_text(plan.total) + ", over max_memory_mb " +
                     std::to_string(s.max_memory_mb) + ":";
  for (size_t i = 0; i < plan.parts.size(); ++i) {
    const MemoryPart& p = plan.parts[i];
    what += (i == 0 ? " " : "; ") + p.detail + ", " + p.what + " " + mib_text(p.bytes);
    if (!p.field.empty()) what += " (" + p.field + ")";
  }
  what += "; plan a smaller run or raise max_memory_mb (or --max-memory-mb)";
  const MemoryPart& largest = plan.parts.front();
  if (largest.field.empty()) return root.error(what);
  const JsonField f = field_at(root, largest.field);
  // A default (absent) key: the error names it under the object that would hold it.
  if (f.path() == largest.field) return f.error(what);
  return f.error(largest.field + " (default): " + what);
}

}  // namespace

Result<int64_t> int_member(const JsonField& f, std::string_view key, int64_t min, int64_t max,
                           std::optional<int64_t> fallback) {
  std::optional<JsonField> v = f.optional(key);
  if (!v) {
    if (fallback) return *fallback;
    return Error{f.required(key).error()};  // Absent, so this is "is required".
  }
  return v->expect_int(min, max);
}

Result<double> number_member(const JsonField& f, std::string_view key, double min, double max,
                             double fallback) {
  std::optional<JsonField> v = f.optional(key);
  if (!v) return fallback;
  if (!v->value().IsNumber() || !(v->value().GetDouble() >= min) ||
      !(v->value().GetDouble() <= max)) {
    // The bounds used here are whole numbers.
    std::string range = std::to_string(std::llround(min)) + ".." + std::to_string(std::llround(max));
    return v->error("must be a number in " + range);
  }
  return v->value().GetDouble();
}

Result<Scenario> parse_scenario(std::string_view text, std::string_view source, const std::string& base_dir,
                                const TopologyLoader& load, std::optional<uint64_t> max_memory_mb) {
  Result<JsonDoc> parsed = parse_json(text, source);
  if (!parsed.ok()) return Error{parsed.error()};
  const JsonDoc& doc = parsed.value();
  JsonField root = doc.root();
  if (auto e = root.expect_object({"name", "description", "topology", "duration_ms", "drain_ms",
                                   "seed", "max_events", "max_memory_mb", "workload", "expect", "links",
                                   "link_overrides", "timeline", "sync", "link_queue_bytes", "link_timings", "swarm",
                                   "explore"})) {  // "explore": herd explore's (sim/explore.h).
    return *e;
  }
  Scenario s;
  s.source = std::string(source);
  if (std::optional<JsonField> name = root.optional("name")) {
    Result<std::string> v = name->expect_word(200);
    if (!v.ok()) return Error{v.error()};
    s.name = v.value();
  }
  if (std::optional<JsonField> description = root.optional("description")) {
    if (Result<std::string> v = description->expect_string(10000); !v.ok()) return Error{v.error()};
  }
  Result<JsonField> topology = root.required("topology");
  if (!topology.ok()) return Error{topology.error()};
  Result<Topology> t = parse_scenario_topology(doc, topology.value(), base_dir, load);
  if (!t.ok()) return Error{t.error()};
  s.topology = std::move(t.value());
  Result<int64_t> duration = int_member(root, "duration_ms", 1, kMsMax, std::nullopt);
  if (!duration.ok()) return Error{duration.error()};
  s.duration_ns = duration.value() * kNsPerMs;
  Result<int64_t> drain = int_member(root, "drain_ms", 0, kMsMax, 60'000);
  if (!drain.ok()) return Error{drain.error()};
  s.drain_ns = drain.value() * kNsPerMs;
  if (root.optional("seed")) {
    Result<int64_t> seed = int_member(root, "seed", 0, INT64_MAX, 0);
    if (!seed.ok()) return Error{seed.error()};
    s.seed = static_cast<uint64_t>(seed.value());
  }
  Result<int64_t> max_events = int_member(root, "max_events", 1, 10'000'000'000, 100'000'000);
  if (!max_events.ok()) return Error{max_events.error()};
  s.max_events = static_cast<uint64_t>(max_events.value());
  Result<int64_t> memory = int_member(root, "max_memory_mb", kMaxMemoryMbMin, kMaxMemoryMbMax,
                                      static_cast<int64_t>(kMaxMemoryMbDefault));
  if (!memory.ok()) return Error{memory.error()};
  s.max_memory_mb = max_memory_mb.value_or(static_cast<uint64_t>(memory.value()));
  if (std::optional<JsonField> w = root.optional("workload")) {
    if (auto e = parse_workload(*w, &s.workload)) return *e;
  }
  if (std::optional<JsonField> x = root.optional("expect")) {
    if (auto e = parse_expect(*x, &s.expect)) return *e;
  }
  Result<int64_t> queue = int_member(root, "link_queue_bytes", 1024, int64_t{1} << 32, 16 << 20);
  if (!queue.ok()) return Error{queue.error()};
  s.link_queue_bytes = static_cast<uint64_t>(queue.value());
  if (std::optional<JsonField> sync = root.optional("sync")) {
    if (auto e = parse_sync_section(*sync, &s.sync)) return *e;
  }
  if (std::optional<JsonField> timings = root.optional("link_timings")) {
    if (auto e = parse_link_timings_section(*timings, &s.link)) return *e;
  }
  Result<FaultPlan> plan = parse_plan(doc, root, s.topology);
  if (!plan.ok()) return Error{plan.error()};
  s.plan = std::move(plan.value());
  if (auto e = check_timeline_ends(root, s)) return *e;
  if (auto e = check_memory_plan(root, s)) return *e;
  if (std::optional<JsonField> swarm = root.optional("swarm")) {
    SwarmSpec spec;
    if (auto e = parse_swarm_section(*swarm, s, &spec)) return *e;
    s.swarm = spec;
  }
  if (s.name.empty()) s.name = s.topology.name;
  return s;
}


}  // namespace herd
