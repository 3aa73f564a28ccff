#include "sim/swarm.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "node/check.h"
#include "node/clock.h"
#include "node/json_bytes.h"
#include "node/rng.h"
#include "sim/scenario_parse.h"

namespace herd {
namespace {

constexpr int64_t kMsMax = 1'000'000'000;
constexpr int64_t kEventsMax = 1000;

// [lo, hi] of integers in min..max under `key`, when present.
Result<std::optional<std::pair<int64_t, int64_t>>> int_range(const JsonField& f, std::string_view key, int64_t min,
                                                             int64_t max) {
  std::optional<JsonField> v = f.optional(key);
  if (!v) return std::optional<std::pair<int64_t, int64_t>>();
  if (!v->value().IsArray() || v->value().Size() != 2) {
    return v->error("must be [min, max], two integers in " + std::to_string(min) + ".." + std::to_string(max));
  }
  Result<int64_t> lo = v->element(0).expect_int(min, max);
  if (!lo.ok()) return Error{lo.error()};
  Result<int64_t> hi = v->element(1).expect_int(min, max);
  if (!hi.ok()) return Error{hi.error()};
  if (lo.value() > hi.value()) return v->error("min must not exceed max");
  return std::optional<std::pair<int64_t, int64_t>>(std::pair{lo.value(), hi.value()});
}

// A number in [0, max] as an integer number of `scale`ths.
Result<int64_t> scaled(const JsonField& f, double max, double scale) {
  if (!f.value().IsNumber() || !(f.value().GetDouble() >= 0) || !(f.value().GetDouble() <= max)) {
    return f.error("must be a number in 0.." + std::to_string(std::llround(max)));
  }
  return static_cast<int64_t>(std::llround(f.value().GetDouble() * scale));
}

// [lo, hi] of rates (per second, fractions allowed) in thousandths.
Result<std::optional<std::pair<int64_t, int64_t>>> rate_range(const JsonField& f, std::string_view key) {
  std::optional<JsonField> v = f.optional(key);
  if (!v) return std::optional<std::pair<int64_t, int64_t>>();
  if (!v->value().IsArray() || v->value().Size() != 2) return v->error("must be [min, max], two numbers in 0..1000000");
  Result<int64_t> lo = scaled(v->element(0), 1e6, 1000);
  if (!lo.ok()) return Error{lo.error()};
  Result<int64_t> hi = scaled(v->element(1), 1e6, 1000);
  if (!hi.ok()) return Error{hi.error()};
  if (lo.value() > hi.value()) return v->error("min must not exceed max");
  return std::optional<std::pair<int64_t, int64_t>>(std::pair{lo.value(), hi.value()});
}

// {"p": P, "min": a, "max": b}: a probability and a range; fractions are kept in
// ppm when `fraction`, else the bounds are integers in min..max.
Result<std::optional<SwarmDraw>> draw_member(const JsonField& f, std::string_view key, bool fraction, int64_t min,
                                             int64_t max, int64_t lo_default) {
  std::optional<JsonField> v = f.optional(key);
  if (!v) return std::optional<SwarmDraw>();
  if (auto e = v->expect_object({"p", "min", "max"})) return *e;
  SwarmDraw d;
  Result<JsonField> p = v->required("p");
  if (!p.ok()) return Error{p.error()};
  Result<int64_t> p_ppm = scaled(p.value(), 1, 1e6);
  if (!p_ppm.ok()) return Error{p_ppm.error()};
  d.p_ppm = static_cast<uint64_t>(p_ppm.value());
  for (const char* bound : {"min", "max"}) {
    std::optional<JsonField> b = v->optional(bound);
    int64_t value = bound[1] == 'i' ? lo_default : max;
    if (b) {
      Result<int64_t> r = fraction ? scaled(*b, 1, 1e6) : b->expect_int(min, max);
      if (!r.ok()) return Error{r.error()};
      value = r.value();
    }
    (bound[1] == 'i' ? d.lo : d.hi) = value;
  }
  if (d.lo > d.hi) return v->error("min must not exceed max");
  return std::optional<SwarmDraw>(d);
}

struct Drawn {
  int64_t at_ms;
  size_t order;
  std::string json;  // One timeline event.
};

std::string pair_json(const std::string& a, const std::string& b) { return "[" + json_bytes(a) + "," + json_bytes(b) + "]"; }

std::string event_json(int64_t at_ms, const std::string& action) {
  return "{\"at_ms\":" + std::to_string(at_ms) + "," + action + "}";
}

// The links' and the workload's draws, as the members of their sections.
std::string draw_links(const SwarmSpec& spec, uint64_t seed) {
  std::vector<std::string> members;
  if (spec.drop) {
    Rng rng = derive(seed, "swarm/links/drop");
    const bool on = rng.bernoulli(Probability::of(static_cast<double>(spec.drop->p_ppm) / 1e6));
    const uint64_t ppm = rng.uniform_u64(static_cast<uint64_t>(spec.drop->lo), static_cast<uint64_t>(spec.drop->hi));
    if (on) members.push_back("\"drop\":" + fixed_point(static_cast<int64_t>(ppm), 6));
  }
  if (spec.duplicate) {
    Rng rng = derive(seed, "swarm/links/duplicate");
    const bool on = rng.bernoulli(Probability::of(static_cast<double>(spec.duplicate->p_ppm) / 1e6));
    const uint64_t ppm =
        rng.uniform_u64(static_cast<uint64_t>(spec.duplicate->lo), static_cast<uint64_t>(spec.duplicate->hi));
    if (on) members.push_back("\"duplicate\":" + fixed_point(static_cast<int64_t>(ppm), 6));
  }
  if (spec.delay_ms) {
    Rng rng = derive(seed, "swarm/links/delay");
    const bool on = rng.bernoulli(Probability::of(static_cast<double>(spec.delay_ms->p_ppm) / 1e6));
    int64_t a = rng.uniform_i64(spec.delay_ms->lo, spec.delay_ms->hi);
    int64_t b = rng.uniform_i64(spec.delay_ms->lo, spec.delay_ms->hi);
    if (a > b) std::swap(a, b);
    if (on) {
      members.push_back("\"delay_ms\":{\"dist\":\"uniform\",\"min\":" + std::to_string(a) +
                        ",\"max\":" + std::to_string(b) + "}");
    }
  }
  if (spec.bandwidth_kbps) {
    Rng rng = derive(seed, "swarm/links/bandwidth");
    const bool on = rng.bernoulli(Probability::of(static_cast<double>(spec.bandwidth_kbps->p_ppm) / 1e6));
    const int64_t kbps = rng.uniform_i64(spec.bandwidth_kbps->lo, spec.bandwidth_kbps->hi);
    if (on) members.push_back("\"bandwidth_kbps\":" + std::to_string(kbps));
  }
  std::string out;
  for (size_t i = 0; i < members.size(); ++i) out += (i ? "," : "") + members[i];
  return out;
}

std::string draw_workload(const SwarmSpec& spec, uint64_t seed) {
  Rng rng = derive(seed, "swarm/workload");
  std::vector<std::string> members;
  if (spec.clients) {
    members.push_back("\"clients\":" + std::to_string(rng.uniform_i64(spec.clients->first, spec.clients->second)));
  }
  if (spec.iamat_milli) {
    members.push_back("\"iamat_per_s\":" +
                      fixed_point(rng.uniform_i64(spec.iamat_milli->first, spec.iamat_milli->second), 3));
  }
  if (spec.whatsat_milli) {
    members.push_back("\"whatsat_per_s\":" +
                      fixed_point(rng.uniform_i64(spec.whatsat_milli->first, spec.whatsat_milli->second), 3));
  }
  std::string out;
  for (size_t i = 0; i < members.size(); ++i) out += (i ? "," : "") + members[i];
  return out;
}

// The nemesis schedule: timeline events in time order; *placed and *skipped count
// the events drawn.
std::vector<Drawn> draw_nemesis(const SwarmSpec& spec, const Scenario& s, uint64_t seed, int64_t* placed,
                                int64_t* skipped) {
  Rng rng = derive(seed, "swarm/nemesis");
  const int64_t count = rng.uniform_i64(spec.events_min, spec.events_max);
  std::vector<int64_t> starts;
  for (int64_t i = 0; i < count; ++i) starts.push_back(rng.uniform_i64(spec.window_lo_ms, spec.window_hi_ms));
  std::sort(starts.begin(), starts.end());
  uint64_t total = 0;
  for (uint32_t w : spec.weights) total += w;
  const int64_t end_limit = (s.duration_ns + s.drain_ns) / kNsPerMs;
  const size_t n = s.topology.nodes.size();
  std::vector<int64_t> node_busy(n, -1);
  int64_t links_busy = -1;
  std::vector<Drawn> out;
  auto add = [&](int64_t at, std::string action) { out.push_back({at, out.size(), event_json(at, action)}); };
  for (int64_t start : starts) {
    uint64_t pick = rng.uniform_u64(0, total - 1);
    int kind = 0;
    while (pick >= spec.weights[kind]) pick -= spec.weights[kind++];
    const int64_t length = rng.uniform_i64(spec.fault_lo_ms, spec.fault_hi_ms);
    const std::string name = kSwarmKinds[kind];
    int64_t at = start;
    if (name == "partition" || name == "cut" || name == "blackhole") {
      if (at <= links_busy) at = links_busy + 1;
      if (at > spec.window_hi_ms) {
        ++*skipped;
        continue;
      }
      const int64_t end = std::min(at + length, end_limit);
      links_busy = end;
      if (name == "partition") {
        std::vector<size_t> group;
        for (size_t i = 0; i < n; ++i) {
          if (rng.uniform_u64(0, 1) == 1) group.push_back(i);
        }
        if (group.empty() || group.size() == n) group = {static_cast<size_t>(rng.uniform_u64(0, n - 1))};
        std::string names;
        for (size_t i = 0; i < group.size(); ++i) names += (i ? "," : "") + json_bytes(s.topology.nodes[group[i]].name);
        add(at, "\"partition\":[[" + names + "]]");
        add(end, "\"heal_all\":true");
      } else {
        const auto& link = s.topology.links[rng.uniform_u64(0, s.topology.links.size() - 1)];
        add(at, "\"" + name + "\":" + pair_json(link.first, link.second));
        add(end, "\"heal\":" + pair_json(link.first, link.second));
      }
    } else if (name == "reset") {
      const auto& link = s.topology.links[rng.uniform_u64(0, s.topology.links.size() - 1)];
      add(at, "\"reset\":" + pair_json(link.first, link.second));
    } else {
      std::vector<size_t> free;
      for (size_t i = 0; i < n; ++i) {
        if (node_busy[i] < at) free.push_back(i);
      }
      if (free.empty()) {
        ++*skipped;
        continue;
      }
      const size_t who = free[rng.uniform_u64(0, free.size() - 1)];
      const int64_t end = std::min(at + length, end_limit);
      node_busy[who] = end;
      const std::string server = json_bytes(s.topology.nodes[who].name);
      add(at, "\"" + name + "\":" + server);
      add(end, std::string(name == "crash" ? "\"restart\":" : "\"resume\":") + server);
    }
    ++*placed;
  }
  std::stable_sort(out.begin(), out.end(), [](const Drawn& a, const Drawn& b) { return a.at_ms < b.at_ms; });
  return out;
}

std::string write_json(const rapidjson::Value& v, bool pretty) {
  rapidjson::StringBuffer buffer;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    writer.SetFormatOptions(rapidjson::kFormatSingleLineArray);
    v.Accept(writer);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
  }
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<rapidjson::Document> parse_doc(std::string_view text) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) return Error{"not a scenario object"};
  return d;
}

// Sets or replaces each member of `from` in the object d[key] (created if absent).
void merge_members(rapidjson::Document& d, const char* key, const rapidjson::Value& from) {
  auto& a = d.GetAllocator();
  if (!d.HasMember(key)) d.AddMember(rapidjson::Value(key, a), rapidjson::Value(rapidjson::kObjectType), a);
  rapidjson::Value& to = d[key];
  for (auto m = from.MemberBegin(); m != from.MemberEnd(); ++m) {
    to.RemoveMember(m->name);
    to.AddMember(rapidjson::Value(m->name, a), rapidjson::Value(m->value, a), a);
  }
}

}  // namespace

std::optional<Error> parse_swarm_section(const JsonField& f, const Scenario& s, SwarmSpec* w) {
  if (auto e = f.expect_object({"events", "window_ms", "fault_ms", "kinds", "drop", "duplicate", "delay_ms",
                                "bandwidth_kbps", "clients", "iamat_per_s", "whatsat_per_s"})) {
    return e;
  }
  const int64_t duration_ms = s.duration_ns / kNsPerMs;
  w->window_hi_ms = duration_ms;
  auto events = int_range(f, "events", 0, kEventsMax);
  if (!events.ok()) return Error{events.error()};
  if (events.value()) std::tie(w->events_min, w->events_max) = *events.value();
  auto window = int_range(f, "window_ms", 0, duration_ms);
  if (!window.ok()) return Error{window.error()};
  if (window.value()) std::tie(w->window_lo_ms, w->window_hi_ms) = *window.value();
  auto fault = int_range(f, "fault_ms", 1, kMsMax);
  if (!fault.ok()) return Error{fault.error()};
  if (fault.value()) std::tie(w->fault_lo_ms, w->fault_hi_ms) = *fault.value();
  if (std::optional<JsonField> kinds = f.optional("kinds")) {
    if (auto e = kinds->expect_object({"partition", "cut", "blackhole", "reset", "crash", "pause"})) return e;
    for (int k = 0; k < 6; ++k) {
      Result<int64_t> weight = int_member(*kinds, kSwarmKinds[k], 0, 1000, 0);
      if (!weight.ok()) return Error{weight.error()};
      w->weights[k] = static_cast<uint32_t>(weight.value());
    }
  }
  uint64_t total = 0;
  for (uint32_t weight : w->weights) total += weight;
  const std::string where = f.optional("kinds") ? "kinds" : "events";
  const JsonField at = f.optional("kinds") ? *f.optional("kinds") : f;
  if (w->events_max > 0 && total == 0) return at.error("every kind has weight 0, yet events may be drawn");
  if (w->events_max > 0) {
    const bool link_kinds = w->weights[0] + w->weights[1] + w->weights[2] + w->weights[3] > 0;
    if (link_kinds && s.topology.links.empty()) {
      return at.error("partition, cut, blackhole and reset need links, and the topology has none (give them weight 0)");
    }
    if (w->weights[0] > 0 && s.topology.nodes.size() < 2) return at.error("a partition needs two servers");
  }
  auto draw = [&](const char* key, std::optional<SwarmDraw>* out, bool fraction, int64_t min, int64_t max,
                  int64_t lo) -> std::optional<Error> {
    auto d = draw_member(f, key, fraction, min, max, lo);
    if (!d.ok()) return Error{d.error()};
    *out = d.value();
    return std::nullopt;
  };
  if (auto e = draw("drop", &w->drop, true, 0, 1'000'000, 0)) return e;
  if (auto e = draw("duplicate", &w->duplicate, true, 0, 1'000'000, 0)) return e;
  if (auto e = draw("delay_ms", &w->delay_ms, false, 0, 3'600'000, 0)) return e;
  if (auto e = draw("bandwidth_kbps", &w->bandwidth_kbps, false, 1, 100'000'000, 1)) return e;
  auto clients = int_range(f, "clients", 1, 1'000'000);
  if (!clients.ok()) return Error{clients.error()};
  w->clients = clients.value();
  auto iamat = rate_range(f, "iamat_per_s");
  if (!iamat.ok()) return Error{iamat.error()};
  w->iamat_milli = iamat.value();
  auto whatsat = rate_range(f, "whatsat_per_s");
  if (!whatsat.ok()) return Error{whatsat.error()};
  w->whatsat_milli = whatsat.value();
  return std::nullopt;
}

Result<SwarmConcrete> swarm_concrete(std::string_view text, const Scenario& parsed, uint64_t seed) {
  HERD_ASSERT(parsed.swarm.has_value());
  const SwarmSpec& spec = *parsed.swarm;
  int64_t placed = 0, skipped = 0;
  const std::vector<Drawn> events = draw_nemesis(spec, parsed, seed, &placed, &skipped);
  const std::string links = draw_links(spec, seed);
  const std::string workload = draw_workload(spec, seed);
  std::string drawn = "{\"events\":" + std::to_string(placed) + ",\"skipped\":" + std::to_string(skipped);
  if (!links.empty()) drawn += ",\"links\":{" + links + "}";
  if (!workload.empty()) drawn += ",\"workload\":{" + workload + "}";
  drawn += ",\"timeline\":[";
  for (size_t i = 0; i < events.size(); ++i) drawn += (i ? "," : "") + events[i].json;
  drawn += "]}";

  Result<rapidjson::Document> doc = parse_doc(text);
  if (!doc.ok()) return Error{doc.error()};
  rapidjson::Document& d = doc.value();
  Result<rapidjson::Document> draw_doc = parse_doc(drawn);
  HERD_ASSERT(draw_doc.ok());
  const rapidjson::Value& dv = draw_doc.value();
  d.RemoveMember("swarm");
  if (dv.HasMember("links")) merge_members(d, "links", dv["links"]);
  if (dv.HasMember("workload")) merge_members(d, "workload", dv["workload"]);
  auto& a = d.GetAllocator();
  if (!d.HasMember("timeline")) d.AddMember("timeline", rapidjson::Value(rapidjson::kArrayType), a);
  if (!d["timeline"].IsArray()) return Error{"timeline: not an array"};
  for (const auto& e : dv["timeline"].GetArray()) d["timeline"].PushBack(rapidjson::Value(e, a), a);
  return SwarmConcrete{drawn, write_json(d, false)};
}

std::string topology_json(const Topology& t) {
  std::string o = "{\"name\":" + json_bytes(t.name) + ",\"nodes\":[";
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const TopologyNode& n = t.nodes[i];
    o += std::string(i ? "," : "") + "{\"name\":" + json_bytes(n.name) + ",\"port\":" + std::to_string(n.port);
    if (n.host != "127.0.0.1") o += ",\"host\":" + json_bytes(n.host);
    if (n.peer_port != 0) o += ",\"peer_port\":" + std::to_string(n.peer_port);
    o += "}";
  }
  o += "],\"links\":[";
  for (size_t i = 0; i < t.links.size(); ++i) o += (i ? "," : "") + pair_json(t.links[i].first, t.links[i].second);
  return o + "]}";
}

Result<std::string> standalone_scenario_text(std::string_view text, const Scenario& parsed, uint64_t seed,
                                             std::string_view description) {
  Result<rapidjson::Document> doc = parse_doc(text);
  if (!doc.ok()) return Error{doc.error()};
  rapidjson::Document& d = doc.value();
  auto& a = d.GetAllocator();
  if (d.HasMember("topology") && d["topology"].IsString()) {
    Result<rapidjson::Document> t = parse_doc(topology_json(parsed.topology));
    HERD_ASSERT(t.ok());
    d["topology"].CopyFrom(t.value(), a);
  }
  d.RemoveMember("seed");
  d.AddMember("seed", rapidjson::Value(static_cast<int64_t>(seed & INT64_MAX)), a);
  if (!description.empty()) {
    d.RemoveMember("description");
    d.AddMember("description",
                rapidjson::Value(description.data(), static_cast<rapidjson::SizeType>(description.size()), a), a);
  }
  return write_json(d, true) + "\n";
}

}  // namespace herd
