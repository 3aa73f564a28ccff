#include "node/check.h"
#include "node/fault_state.h"

#include <algorithm>
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
  paused_.assign(nodes_.size(), false);
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
    HERD_ASSERT(links_.back().from >= 0 && links_.back().to >= 0);
  }
  for (const LinkOverride& entry : plan.overrides) {
    const CommandOutcome outcome = set(entry.link, entry.settings);
    HERD_ASSERT(outcome.ok);
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

bool FaultState::paused(std::string_view server) const {
  const int index = node_index(server);
  return index >= 0 && paused_[index];
}

bool FaultState::any_faults() const {
  const LinkFaults none;
  for (const DirectedLink& l : links_) {
    if (l.cut || l.blackhole || !(l.model.faults() == none)) return true;
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (crashed_[i] || paused_[i]) return true;
  }
  return false;
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
    return l.model.skip(Fate::kCut);
  }
  if (l.blackhole) {
    ++l.counters.blackholed;
    return l.model.skip(Fate::kBlackhole);
  }
  const Decision decision = l.model.decide(now_ns);
  if (decision.fate == Fate::kDrop) ++l.counters.dropped;
  if (decision.copies == 2) ++l.counters.duplicated;
  return decision;
}

int64_t FaultState::transmit(int link, uint64_t bytes, int64_t now_ns) {
  DirectedLink& l = links_.at(link);
  const uint64_t kbps = l.model.faults().bandwidth_kbps;
  if (kbps == 0) return now_ns;
  // bits / (kbps * 1000) seconds, in nanoseconds, rounded up.
  const __int128 ns = (static_cast<__int128>(bytes) * 8 * 1'000'000 + kbps - 1) / kbps;
  l.free_at_ns = std::max(l.free_at_ns, now_ns) + static_cast<int64_t>(ns);
  return l.free_at_ns;
}

void FaultState::reset_pacing(int link, int64_t now_ns) {
  DirectedLink& l = links_.at(link);
  l.free_at_ns = std::min(l.free_at_ns, now_ns);
}

void FaultState::count_delivered(int link, uint64_t n) { links_.at(link).counters.delivered += n; }
void FaultState::count_cut(int link) { ++links_.at(link).counters.cut; }
void FaultState::count_blackholed(int link) { ++links_.at(link).counters.blackholed; }
void FaultState::count_overflow(int link) { ++links_.at(link).counters.overflow; }
void FaultState::count_lost(int link, uint64_t n) { links_.at(link).counters.lost += n; }
void FaultState::count_reset(int link) { ++links_.at(link).counters.resets; }

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
    case ActionKind::kCut: return set_flag(action.link, &DirectedLink::cut, true, "cut ");
    case ActionKind::kHeal: return heal(action.link);
    case ActionKind::kBlackhole: return set_flag(action.link, &DirectedLink::blackhole, true, "blackhole ");
    case ActionKind::kReset: return reset(action.link);
    case ActionKind::kPause: return pause(action.server, true);
    case ActionKind::kResume: return pause(action.server, false);
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

CommandOutcome FaultState::set_flag(const LinkRef& ref, bool DirectedLink::*flag, bool value,
                                    const char* verb) {
  std::vector<std::string> labels;
  for (const int id : links_of(ref)) {
    links_[id].*flag = value;
    labels.push_back(links_[id].label);
  }
  return ok(verb + join(labels, " "));
}

// A heal undoes both a cut and a blackhole.
CommandOutcome FaultState::heal(const LinkRef& ref) {
  set_flag(ref, &DirectedLink::blackhole, false, "");
  return set_flag(ref, &DirectedLink::cut, false, "healed ");
}

CommandOutcome FaultState::heal_all() {
  int healed = 0;
  for (DirectedLink& link : links_) {
    healed += link.cut || link.blackhole ? 1 : 0;
    link.cut = link.blackhole = false;
  }
  return ok("healed " + std::to_string(healed) + " directed links");
}

CommandOutcome FaultState::reset(const LinkRef& ref) {
  for (const int id : links_of(ref)) ++links_[id].counters.resets;
  CommandOutcome outcome = ok("reset " + ref.from + " " + ref.to);
  outcome.request = HostRequest::kReset;
  outcome.server = ref.from;
  outcome.peer = ref.to;
  return outcome;
}

CommandOutcome FaultState::pause(const std::string& server, bool pause) {
  const int index = node_index(server);
  if (crashed_[index]) return fail(server + " is crashed");
  if (paused_[index] == pause) return fail(server + (pause ? " is already paused" : " is not paused"));
  paused_[index] = pause;
  CommandOutcome outcome = ok((pause ? "pause " : "resume ") + server);
  outcome.request = pause ? HostRequest::kPause : HostRequest::kResume;
  outcome.server = server;
  return outcome;
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
    link.blackhole = false;
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
  paused_[index] = false;  // A crash ends a pause: the process is gone.
  CommandOutcome outcome = ok((crash ? "crash " : "restart ") + server);
  outcome.request = crash ? HostRequest::kCrash : HostRequest::kRestart;
  outcome.server = server;
  return outcome;
}

std::string FaultState::link_line(const DirectedLink& link, const LinkHostView& view) const {
  const LinkCounters& c = link.counters;
  const char* state = crashed_[link.from] || crashed_[link.to] ? "crashed"
                      : link.cut                               ? "cut"
                      : link.blackhole                         ? "blackhole"
                                                               : "up";
  auto field = [](const char* key, uint64_t v) { return std::string(" ") + key + "=" + std::to_string(v); };
  return "link " + link.label + " conn=" + (view.conn_up ? "up" : "down") + field("sent", view.sent) +
         field("dropped", c.dropped) + field("duplicated", c.duplicated) + field("delivered", c.delivered) +
         field("cut", c.cut) + field("blackholed", c.blackholed) + field("overflow", c.overflow) +
         field("lost", c.lost + view.lost_at_node) + field("queued", view.queued) + field("resets", c.resets) +
         " state=" + state + " " + link.model.faults().text();
}

std::vector<std::string> FaultState::status_lines(
    const std::vector<LinkHostView>& views, const std::map<std::string, ServerHostView, std::less<>>& servers) const {
  std::vector<std::string> lines;
  for (size_t i = 0; i < links_.size(); ++i) {
    lines.push_back(link_line(links_[i], i < views.size() ? views[i] : LinkHostView{}));
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const auto it = servers.find(nodes_[i]);
    const ServerHostView view = it == servers.end() ? ServerHostView{} : it->second;
    lines.push_back("server " + nodes_[i] + " records=" + std::to_string(view.records) +
                    " state=" + (crashed_[i] ? "crashed" : paused_[i] ? "paused" : "up") +
                    (view.extra.empty() ? "" : " " + view.extra));
  }
  return lines;
}

}  // namespace herd
