#include "node/fault_state.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace herd {
namespace {

CommandOutcome ok(std::string text) { return {true, "ok: " + std::move(text)}; }
CommandOutcome fail(std::string text) { return {false, "error: " + std::move(text)}; }

std::string join(const std::vector<std::string>& names, std::string_view separator) {
  std::string text;
  for (const std::string& name : names) {
    if (!text.empty()) text += separator;
    text += name;
  }
  return text;
}

}  // namespace

FaultState::FaultState(FaultTopology topology, uint64_t seed, const FaultPlan& plan)
    : topology_(std::move(topology)), nodes_(topology_.nodes) {
  std::sort(nodes_.begin(), nodes_.end());
  crashed_.assign(nodes_.size(), false);
  std::vector<std::pair<std::string, std::string>> directed;
  for (const auto& [a, b] : topology_.links) {
    directed.emplace_back(a, b);
    directed.emplace_back(b, a);
  }
  std::sort(directed.begin(), directed.end());
  for (const auto& [from, to] : directed) {
    const std::string label = from + ">" + to;
    links_.push_back({label, node_index(from), node_index(to),
                      LinkModel(seed, label, plan.defaults)});
    assert(links_.back().from >= 0 && links_.back().to >= 0);
  }
  for (const LinkOverride& entry : plan.overrides) {
    const CommandOutcome outcome = set(entry.link, entry.settings);
    assert(outcome.ok);
  }
}

int FaultState::node_index(std::string_view name) const {
  const auto it = std::lower_bound(nodes_.begin(), nodes_.end(), name);
  if (it == nodes_.end() || *it != name) return -1;
  return static_cast<int>(it - nodes_.begin());
}

int FaultState::link_id(std::string_view from, std::string_view to) const {
  const auto key = std::make_pair(from, to);
  const auto it = std::lower_bound(
      links_.begin(), links_.end(), key, [&](const DirectedLink& link, const auto& k) {
        return std::make_pair(std::string_view(nodes_[link.from]),
                              std::string_view(nodes_[link.to])) < k;
      });
  if (it == links_.end() || nodes_[it->from] != from || nodes_[it->to] != to) return -1;
  return static_cast<int>(it - links_.begin());
}

const std::string& FaultState::label(int link) const { return links_.at(link).label; }
const LinkCounters& FaultState::counters(int link) const { return links_.at(link).counters; }
const LinkFaults& FaultState::faults(int link) const { return links_.at(link).model.faults(); }
bool FaultState::is_cut(int link) const { return links_.at(link).cut; }

bool FaultState::crashed(std::string_view server) const {
  const int index = node_index(server);
  return index >= 0 && crashed_[index];
}

bool FaultState::blocked(int link) const {
  const DirectedLink& l = links_.at(link);
  return l.cut || crashed_[l.from] || crashed_[l.to];
}

Decision FaultState::decide(int link, int64_t now_ns) {
  DirectedLink& l = links_.at(link);
  ++l.counters.sent;
  if (blocked(link)) {
    ++l.counters.cut;
    return l.model.skip_cut();
  }
  const Decision decision = l.model.decide(now_ns);
  if (decision.fate == Fate::kDrop) ++l.counters.dropped;
  if (decision.copies == 2) ++l.counters.duplicated;
  return decision;
}

void FaultState::count_delivered(int link) { ++links_.at(link).counters.delivered; }
void FaultState::count_cut(int link) { ++links_.at(link).counters.cut; }
void FaultState::count_overflow(int link) { ++links_.at(link).counters.overflow; }

std::vector<int> FaultState::links_of(const LinkRef& ref) const {
  std::vector<int> ids;
  const int forward = link_id(ref.from, ref.to);
  if (forward >= 0) ids.push_back(forward);
  const int backward = ref.one_way ? -1 : link_id(ref.to, ref.from);
  if (backward >= 0) ids.push_back(backward);
  return ids;
}

CommandOutcome FaultState::execute(std::string_view line) {
  const Result<FaultAction> action = parse_command(line);
  if (!action.ok()) return fail(action.error());
  return apply(action.value());
}

CommandOutcome FaultState::apply(const FaultAction& action) {
  const std::string error = check_action(topology_, action);
  if (!error.empty()) return fail(error);
  switch (action.kind) {
    case ActionKind::kCut: return set_cut(action.link, true);
    case ActionKind::kHeal: return set_cut(action.link, false);
    case ActionKind::kHealAll: return heal_all();
    case ActionKind::kPartition: return partition(action.groups);
    case ActionKind::kSet: return set(action.link, action.settings);
    case ActionKind::kCrash: return crash(action.server, true);
    case ActionKind::kRestart: return crash(action.server, false);
    case ActionKind::kStatus: {
      CommandOutcome outcome = ok("status");
      outcome.request = HostRequest::kStatus;
      return outcome;
    }
  }
  return fail("unknown action");
}

CommandOutcome FaultState::set_cut(const LinkRef& ref, bool cut) {
  std::vector<std::string> labels;
  for (const int id : links_of(ref)) {
    links_[id].cut = cut;
    labels.push_back(links_[id].label);
  }
  return ok(std::string(cut ? "cut " : "healed ") + join(labels, " "));
}

CommandOutcome FaultState::heal_all() {
  int healed = 0;
  for (DirectedLink& link : links_) {
    healed += link.cut ? 1 : 0;
    link.cut = false;
  }
  return ok("healed " + std::to_string(healed) + " directed links");
}

// Heals everything, then cuts both directions of every link between two groups.
// Servers in no group make one more group together.
CommandOutcome FaultState::partition(const std::vector<std::vector<std::string>>& groups) {
  std::vector<int> group_of(nodes_.size(), static_cast<int>(groups.size()));
  std::vector<std::string> texts;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (const std::string& name : groups[g]) group_of[node_index(name)] = static_cast<int>(g);
    texts.push_back(join(groups[g], ","));
  }
  std::vector<std::string> rest;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (group_of[i] == static_cast<int>(groups.size())) rest.push_back(nodes_[i]);
  }
  if (!rest.empty()) texts.push_back(join(rest, ","));
  int cut = 0;
  for (DirectedLink& link : links_) {
    link.cut = group_of[link.from] != group_of[link.to];
    cut += link.cut ? 1 : 0;
  }
  return ok("partition " + join(texts, " | ") + ": cut " + std::to_string(cut) +
            " directed links");
}

CommandOutcome FaultState::set(const LinkRef& ref, const LinkSettings& settings) {
  std::vector<std::string> texts;
  for (const int id : links_of(ref)) {
    LinkModel& model = links_[id].model;
    model.set_faults(settings.applied_to(model.faults()));
    texts.push_back(links_[id].label + " " + model.faults().text());
  }
  return ok("set " + join(texts, ", "));
}

CommandOutcome FaultState::crash(const std::string& server, bool crash) {
  const int index = node_index(server);
  if (crashed_[index] == crash) {
    return fail(server + (crash ? " is already crashed" : " is not crashed"));
  }
  crashed_[index] = crash;
  CommandOutcome outcome = ok((crash ? "crash " : "restart ") + server);
  outcome.request = crash ? HostRequest::kCrash : HostRequest::kRestart;
  outcome.server = server;
  return outcome;
}

std::string FaultState::link_line(const DirectedLink& link) const {
  const LinkCounters& c = link.counters;
  const char* state = crashed_[link.from] || crashed_[link.to] ? "crashed"
                      : link.cut                               ? "cut"
                                                               : "up";
  return "link " + link.label + " sent=" + std::to_string(c.sent) +
         " dropped=" + std::to_string(c.dropped) +
         " duplicated=" + std::to_string(c.duplicated) +
         " delivered=" + std::to_string(c.delivered) + " cut=" + std::to_string(c.cut) +
         " overflow=" + std::to_string(c.overflow) + " state=" + state + " " +
         link.model.faults().text();
}

std::vector<std::string> FaultState::status_lines(
    const std::map<std::string, uint64_t, std::less<>>& records) const {
  std::vector<std::string> lines;
  for (const DirectedLink& link : links_) lines.push_back(link_line(link));
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const auto it = records.find(nodes_[i]);
    const uint64_t count = it == records.end() ? 0 : it->second;
    lines.push_back("server " + nodes_[i] + " records=" + std::to_string(count) +
                    " state=" + (crashed_[i] ? "crashed" : "up"));
  }
  return lines;
}

}  // namespace herd
