#include "node/fault_plan.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node/fault_text.h"
#include "node/json_where.h"

namespace herd {
namespace {

// Each reader returns the error (source, line, key path, what) or nothing.
using Fail = std::optional<Error>;

Fail failed(const Result<JsonField>& r) {
  if (r.ok()) return std::nullopt;
  return Error{r.error()};
}

Fail read_ms(const JsonField& f, int64_t& ns) {
  if (!f.value().IsNumber()) return f.error("must be a number of milliseconds");
  const auto value = ms_to_ns(f.value().GetDouble());
  if (!value) return f.error("must be between 0 and 3600000 (milliseconds)");
  ns = *value;
  return std::nullopt;
}

// The members of a delay object, in milliseconds, all required.
Fail read_ms_members(const JsonField& f,
                     std::initializer_list<std::pair<std::string_view, int64_t*>> fields) {
  for (const auto& [key, ns] : fields) {
    const Result<JsonField> member = f.required(key);
    if (!member.ok()) return failed(member);
    if (Fail e = read_ms(member.value(), *ns)) return e;
  }
  return std::nullopt;
}

Fail read_delay(const JsonField& f, DelayDist& dist) {
  if (f.value().IsNumber()) {
    dist = DelayDist::constant(0);
    return read_ms(f, dist.value_ns);
  }
  if (!f.value().IsObject()) return f.error("must be a number or an object with \"dist\"");
  const Result<JsonField> kind = f.required("dist");
  if (!kind.ok()) return failed(kind);
  const rapidjson::Value& k = kind.value().value();
  const std::string name = k.IsString() ? std::string(k.GetString(), k.GetStringLength()) : "";
  Fail e;
  if (name == "constant") {
    dist = DelayDist::constant(0);
    e = f.expect_object({"dist", "value"});
    if (!e) e = read_ms_members(f, {{"value", &dist.value_ns}});
  } else if (name == "uniform") {
    dist = DelayDist::uniform(0, 0);
    e = f.expect_object({"dist", "min", "max"});
    if (!e) e = read_ms_members(f, {{"min", &dist.min_ns}, {"max", &dist.max_ns}});
  } else if (name == "exponential") {
    dist = DelayDist::exponential(0, 0);
    e = f.expect_object({"dist", "min", "mean"});
    if (!e) e = read_ms_members(f, {{"min", &dist.min_ns}, {"mean", &dist.mean_ns}});
  } else {
    return kind.value().error("must be \"constant\", \"uniform\" or \"exponential\"");
  }
  if (!e && !dist.invalid().empty()) e = f.error(dist.invalid());
  return e;
}

Fail read_probability(const JsonField& f, std::optional<Probability>& p) {
  if (f.value().IsNumber()) p = probability_from(f.value().GetDouble());
  if (!p) return f.error("must be a probability, a number in [0, 1]");
  return std::nullopt;
}

// drop, delay_ms and duplicate, where present. REQUIRES: f is an object.
Fail read_settings(const JsonField& f, LinkSettings& settings) {
  if (auto drop = f.optional("drop")) {
    if (Fail e = read_probability(*drop, settings.drop)) return e;
  }
  if (auto duplicate = f.optional("duplicate")) {
    if (Fail e = read_probability(*duplicate, settings.duplicate)) return e;
  }
  if (auto delay = f.optional("delay_ms")) {
    settings.delay.emplace();
    if (Fail e = read_delay(*delay, *settings.delay)) return e;
  }
  if (auto bandwidth = f.optional("bandwidth_kbps")) {
    const Result<int64_t> kbps = bandwidth->expect_int(0, static_cast<int64_t>(kMaxBandwidthKbps));
    if (!kbps.ok()) return Error{kbps.error()};
    settings.bandwidth_kbps = static_cast<uint64_t>(kbps.value());
  }
  return std::nullopt;
}

// ["A", "B"] (both ways) or "A>B" (one way).
Fail read_link(const JsonField& f, LinkRef& link) {
  const rapidjson::Value& v = f.value();
  if (v.IsArray() && v.Size() == 2 && v[0].IsString() && v[1].IsString()) {
    link = {std::string(v[0].GetString(), v[0].GetStringLength()),
            std::string(v[1].GetString(), v[1].GetStringLength()), false};
    return std::nullopt;
  }
  const std::string text = v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : "";
  const size_t arrow = text.find('>');
  if (arrow == std::string::npos) return f.error("must be [\"A\", \"B\"] or \"A>B\"");
  link = {text.substr(0, arrow), text.substr(arrow + 1), true};
  return std::nullopt;
}

Fail read_groups(const JsonField& f, std::vector<std::vector<std::string>>& groups) {
  const Result<size_t> count = f.expect_array(1, kMaxPlanEntries);
  if (!count.ok()) return Error{count.error()};
  for (size_t g = 0; g < count.value(); ++g) {
    const JsonField group = f.element(g);
    const Result<size_t> size = group.expect_array(1, kMaxPlanEntries);
    if (!size.ok()) return Error{size.error()};
    std::vector<std::string>& names = groups.emplace_back();
    for (size_t i = 0; i < size.value(); ++i) {
      Result<std::string> name = group.element(i).expect_word(256);
      if (!name.ok()) return Error{name.error()};
      names.push_back(std::move(name.value()));
    }
  }
  return std::nullopt;
}

// Shared by "link_overrides" entries and the timeline's "set".
Fail read_override(const JsonField& f, const FaultTopology& topology, LinkOverride& entry) {
  if (Fail e = f.expect_object({"between", "link", "drop", "delay_ms", "duplicate", "bandwidth_kbps"})) return e;
  const auto between = f.optional("between");
  const auto one_way = f.optional("link");
  if (between.has_value() == one_way.has_value()) {
    return f.error("needs exactly one of \"between\" and \"link\"");
  }
  const JsonField& link = between ? *between : *one_way;
  if (Fail e = read_link(link, entry.link)) return e;
  if (Fail e = read_settings(f, entry.settings)) return e;
  if (entry.settings.empty()) return f.error("needs at least one of drop, delay_ms, duplicate, bandwidth_kbps");
  FaultAction action;
  action.kind = ActionKind::kSet;
  action.link = entry.link;
  const std::string error = check_action(topology, action);
  if (!error.empty()) return link.error(error);
  return std::nullopt;
}

constexpr std::string_view kActions[] = {"cut",   "heal",    "partition", "set",   "heal_all", "crash",
                                         "restart", "blackhole", "reset", "pause", "resume"};

// The action under `key` of a timeline event; names are checked by the caller.
Fail read_action(const JsonField& f, std::string_view key, const FaultTopology& topology,
                 FaultAction& action) {
  if (key == "cut" || key == "heal" || key == "blackhole") {
    action.kind = key == "cut" ? ActionKind::kCut : key == "heal" ? ActionKind::kHeal : ActionKind::kBlackhole;
    return read_link(f, action.link);
  }
  if (key == "reset") {
    action.kind = ActionKind::kReset;
    if (Fail e = read_link(f, action.link)) return e;
    if (action.link.one_way) return f.error("must be [\"A\", \"B\"] (a connection has two ends)");
    return std::nullopt;
  }
  if (key == "partition") {
    action.kind = ActionKind::kPartition;
    return read_groups(f, action.groups);
  }
  if (key == "set") {
    LinkOverride entry;
    Fail e = read_override(f, topology, entry);
    action.kind = ActionKind::kSet;
    action.link = entry.link;
    action.settings = entry.settings;
    return e;
  }
  if (key == "heal_all") {
    action.kind = ActionKind::kHealAll;
    if (!f.value().IsTrue()) return f.error("must be true");
    return std::nullopt;
  }
  action.kind = key == "crash"   ? ActionKind::kCrash
                : key == "restart" ? ActionKind::kRestart
                : key == "pause"   ? ActionKind::kPause
                                   : ActionKind::kResume;
  Result<std::string> server = f.expect_word(256);
  if (!server.ok()) return Error{server.error()};
  action.server = server.value();
  return std::nullopt;
}

Fail read_event(const JsonField& f, const FaultTopology& topology, TimelineEvent& event) {
  if (Fail e = f.expect_object({"at_ms", "cut", "heal", "partition", "set", "heal_all", "crash", "restart",
                                "blackhole", "reset", "pause", "resume"})) {
    return e;
  }
  const Result<JsonField> when = f.required("at_ms");
  if (!when.ok()) return failed(when);
  const Result<int64_t> at_ms = when.value().expect_int(0, kMaxAtMs);
  if (!at_ms.ok()) return Error{at_ms.error()};
  event.at_ms = at_ms.value();
  std::vector<std::string_view> keys;
  for (const std::string_view key : kActions) {
    if (f.optional(key)) keys.push_back(key);
  }
  if (keys.size() != 1) {
    return f.error(
        "needs exactly one of cut, heal, partition, set, heal_all, crash, restart, blackhole, reset, pause, "
        "resume");
  }
  const JsonField action = *f.optional(keys[0]);
  if (Fail e = read_action(action, keys[0], topology, event.action)) return e;
  const std::string error = check_action(topology, event.action);
  if (!error.empty()) return action.error(error);
  return std::nullopt;
}

template <class T, class Read>
Fail read_array(const JsonField& root, std::string_view key, std::vector<T>& out, Read read) {
  const auto array = root.optional(key);
  if (!array) return std::nullopt;
  const Result<size_t> count = array->expect_array(0, kMaxPlanEntries);
  if (!count.ok()) return Error{count.error()};
  for (size_t i = 0; i < count.value(); ++i) {
    if (Fail e = read(array->element(i), out.emplace_back())) return e;
  }
  return std::nullopt;
}

Fail read_plan(const JsonField& root, const FaultTopology& topology, FaultPlan& plan) {
  if (Fail e = root.expect_object({"links", "link_overrides", "timeline"})) return e;
  if (const auto links = root.optional("links")) {
    if (Fail e = links->expect_object({"drop", "delay_ms", "duplicate", "bandwidth_kbps"})) return e;
    LinkSettings settings;
    if (Fail e = read_settings(*links, settings)) return e;
    plan.defaults = settings.applied_to(LinkFaults{});
  }
  Fail e = read_array(root, "link_overrides", plan.overrides,
                      [&](const JsonField& f, LinkOverride& entry) {
                        return read_override(f, topology, entry);
                      });
  if (e) return e;
  e = read_array(root, "timeline", plan.timeline, [&](const JsonField& f, TimelineEvent& event) {
    return read_event(f, topology, event);
  });
  std::stable_sort(plan.timeline.begin(), plan.timeline.end(),
                   [](const TimelineEvent& a, const TimelineEvent& b) { return a.at_ms < b.at_ms; });
  return e;
}

}  // namespace

Result<FaultPlan> parse_fault_plan(std::string_view json_text, std::string_view source_name,
                                   const FaultTopology& topology) {
  const Result<JsonDoc> doc = parse_json(json_text, source_name);
  if (!doc.ok()) return Error{doc.error()};
  FaultPlan plan;
  if (Fail e = read_plan(doc.value().root(), topology, plan)) return *e;
  return plan;
}

}  // namespace herd
