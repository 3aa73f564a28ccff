#include "sim/html_report.h"

#include <algorithm>

#include "node/json_bytes.h"
#include "node/node.h"
#include "node/peer_auth.h"
#include "node/record.h"

namespace herd {

HtmlRun::HtmlRun(std::vector<std::string> servers, std::vector<std::pair<int, int>> links)
    : servers_(std::move(servers)), links_(std::move(links)) {
  const size_t n = servers_.size();
  latency_.resize(n);
  latency_seen_.assign(n, 0);
  latency_stride_.assign(n, 1);
  updates_max_ = std::clamp<size_t>(60'000 / std::max<size_t>(1, 2 * links_.size()), 4, kHtmlUpdatesMax);
}

int HtmlRun::server_index(std::string_view name) const {
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

const HtmlLinkCounts& HtmlRun::link(int from, int to) const {
  static const HtmlLinkCounts kNone;
  auto it = counts_.find(static_cast<uint64_t>(from) << 32 | static_cast<uint32_t>(to));
  return it == counts_.end() ? kNone : it->second;
}

void HtmlRun::seen(int64_t t_ns) {
  first_ns_ = std::min(first_ns_, t_ns);
  last_ns_ = std::max(last_ns_, t_ns);
}

void HtmlRun::update(int origin, int64_t t_ns, std::string_view at_line) {
  seen(t_ns);
  const uint64_t index = updates_++;
  const std::string line(at_line);
  if (tracked_.size() < kHtmlTrackedMax) {
    tracked_.emplace(line, Tracked{t_ns, std::vector<bool>(servers_.size(), false)});
  }
  if (index % stride_ != 0 || drawn_index_.count(line) != 0) return;
  HtmlUpdate u;
  u.index = index;
  u.origin = origin;
  u.t_ns = t_ns;
  u.at_line = line;
  drawn_index_.emplace(line, drawn_.size());
  drawn_.push_back(std::move(u));
  if (drawn_.size() > updates_max_) thin();
}

// Keeps every other drawn update (those whose index is a multiple of the doubled
// stride), so the drawn ones stay spread over the whole run.
void HtmlRun::thin() {
  stride_ *= 2;
  std::vector<HtmlUpdate> kept;
  for (HtmlUpdate& u : drawn_) {
    if (u.index % stride_ == 0) kept.push_back(std::move(u));
  }
  drawn_ = std::move(kept);
  drawn_index_.clear();
  for (size_t i = 0; i < drawn_.size(); ++i) drawn_index_.emplace(drawn_[i].at_line, i);
}

void HtmlRun::store(int server, int64_t t_ns, std::string_view at_line, char via, int hops) {
  const std::string line(at_line);
  auto tracked = tracked_.find(line);
  if (tracked != tracked_.end() && !tracked->second.stored[static_cast<size_t>(server)]) {
    tracked->second.stored[static_cast<size_t>(server)] = true;
    const size_t s = static_cast<size_t>(server);
    if (via != 'c' && latency_seen_[s]++ % latency_stride_[s] == 0) {
      std::vector<int64_t>& samples = latency_[s];
      samples.push_back(t_ns - tracked->second.t_ns);
      if (samples.size() > kHtmlLatencyMax) {
        std::vector<int64_t> kept;
        for (size_t i = 0; i < samples.size(); i += 2) kept.push_back(samples[i]);
        samples = std::move(kept);
        latency_stride_[s] *= 2;
      }
    }
  }
  auto drawn = drawn_index_.find(line);
  if (drawn == drawn_index_.end()) return;
  HtmlUpdate& u = drawn_[drawn->second];
  if (u.stores.size() < kHtmlMessagesPerUpdateMax) u.stores.push_back(HtmlStore{server, t_ns, via, hops});
}

// The AT line a message carries ("" when none): FLOOD <hops> <AT line>, SYNC REC <sid> <AT line>.
std::string_view HtmlRun::carried_line(std::string_view message, char* kind, int* hops) {
  *hops = 0;
  if (message.starts_with("FLOOD ")) {
    const size_t space = message.find(' ', 6);
    if (space == std::string_view::npos) return {};
    int h = 0;
    for (size_t i = 6; i < space && i < 12; ++i) {
      if (message[i] < '0' || message[i] > '9') return {};
      h = h * 10 + (message[i] - '0');
    }
    *kind = 'f';
    *hops = h;
    return message.substr(space + 1);
  }
  if (message.starts_with("SYNC REC ")) {
    const size_t space = message.find(' ', 9);
    if (space == std::string_view::npos) return {};
    *kind = 's';
    return message.substr(space + 1);
  }
  return {};
}

void HtmlRun::send(int from, int to, int64_t t_ns, std::string_view message) {
  ++counts(from, to).sent;
  char kind = 'f';
  int hops = 0;
  const std::string_view line = carried_line(message, &kind, &hops);
  if (line.empty()) return;
  ++carried_;
  auto drawn = drawn_index_.find(std::string(line));
  if (drawn == drawn_index_.end()) return;
  HtmlUpdate& u = drawn_[drawn->second];
  if (u.messages.size() >= kHtmlMessagesPerUpdateMax) {
    ++u.messages_left_out;
    return;
  }
  u.messages.push_back(HtmlMessage{from, to, t_ns, -1, hops, kind});
}

void HtmlRun::receive(int from, int to, int64_t t_ns, std::string_view message) {
  ++counts(from, to).received;
  char kind = 'f';
  int hops = 0;
  const std::string_view line = carried_line(message, &kind, &hops);
  if (line.empty()) return;
  auto drawn = drawn_index_.find(std::string(line));
  if (drawn == drawn_index_.end()) return;
  // The earliest copy still in flight on this link (a connection keeps its order).
  for (HtmlMessage& m : drawn_[drawn->second].messages) {
    if (m.from == from && m.to == to && m.kind == kind && m.recv_ns < 0 && m.sent_ns <= t_ns) {
      m.recv_ns = t_ns;
      return;
    }
  }
}

void HtmlRun::link_down(int from, int to, int64_t t_ns) {
  (void)t_ns;
  ++counts(from, to).downs;
}

void HtmlRun::fault(int64_t t_ns, std::string label, bool heals) {
  if (heals) {
    for (HtmlFault& f : faults_) {
      if (f.to_ns < 0) f.to_ns = t_ns;
    }
  }
  if (faults_.size() >= kHtmlFaultsMax) return;
  HtmlFault f;
  f.from_ns = t_ns;
  f.to_ns = heals ? t_ns : -1;
  f.label = std::move(label);
  faults_.push_back(std::move(f));
}

int HtmlCollector::neighbour(int server, const Node& node, int peer) {
  std::vector<int>& peers = neighbours_[static_cast<size_t>(server)];
  if (peers.empty()) {
    for (const std::string& name : node.config().neighbours) peers.push_back(run_->server_index(name));
  }
  return peer >= 0 && static_cast<size_t>(peer) < peers.size() ? peers[static_cast<size_t>(peer)] : -1;
}

void HtmlCollector::on_input(int s, const Input& in, std::span<const Effect> outputs, const Node& node) {
  if (s < 0 || static_cast<size_t>(s) >= run_->servers().size()) return;
  const size_t si = static_cast<size_t>(s);
  if (offers_.size() < run_->servers().size()) {
    offers_.resize(run_->servers().size(), 0);
    neighbours_.resize(run_->servers().size());
  }
  const int64_t t = in.now.mono_ns;
  run_->seen(t);
  if (in.kind == InputKind::kLine) {
    const size_t peers = node.config().neighbours.size();
    for (size_t p = 0; p < peers; ++p) {
      if (node.link(static_cast<int>(p)).conn() != in.conn) continue;
      const int from = neighbour(s, node, static_cast<int>(p));
      if (from >= 0) run_->receive(from, s, t, sealed_message(in.text));
      break;
    }
  }
  // A new Node object (a restarted process) counts its offers from 0 again.
  if (node.counters().offers != offers_[si]) {
    const bool offered = node.counters().offers > offers_[si];
    offers_[si] = node.counters().offers;
    const OfferNote& note = node.last_offer();
    if (offered && note.stored) {
      if (note.via == StoredVia::kClient) run_->update(s, t, note.at_line);
      const char via = note.via == StoredVia::kClient ? 'c' : note.via == StoredVia::kFlood ? 'f' : 's';
      run_->store(s, t, note.at_line, via, note.hops);
    }
  }
  for (const Effect& e : outputs) {
    if (e.kind != EffectKind::kSend && e.kind != EffectKind::kLinkDown) continue;
    const int to = neighbour(s, node, e.peer);
    if (to < 0) continue;
    if (e.kind == EffectKind::kSend) run_->send(s, to, t, e.message());
    else run_->link_down(s, to, t);
  }
}

std::string action_label(const FaultAction& a) {
  switch (a.kind) {
    case ActionKind::kCut: return "cut " + a.link.text();
    case ActionKind::kHeal: return "heal " + a.link.text();
    case ActionKind::kHealAll: return "heal all";
    case ActionKind::kPartition: {
      std::string out = "partition";
      for (size_t g = 0; g < a.groups.size(); ++g) {
        out += g == 0 ? " " : " | ";
        for (size_t i = 0; i < a.groups[g].size(); ++i) out += (i ? "," : "") + a.groups[g][i];
      }
      if (a.groups.size() == 1) out += " | the rest";
      return out;
    }
    case ActionKind::kSet: return "set " + a.link.text();
    case ActionKind::kCrash: return "crash " + a.server;
    case ActionKind::kRestart: return "restart " + a.server;
    case ActionKind::kStatus: return "status";
    case ActionKind::kBlackhole: return "blackhole " + a.link.text();
    case ActionKind::kReset: return "reset " + a.link.text();
    case ActionKind::kPause: return "pause " + a.server;
    case ActionKind::kResume: return "resume " + a.server;
  }
  return "fault";
}

bool action_heals(const FaultAction& a) {
  return a.kind == ActionKind::kHeal || a.kind == ActionKind::kHealAll || a.kind == ActionKind::kRestart ||
         a.kind == ActionKind::kResume;
}

void add_timeline(HtmlRun* run, const FaultPlan& plan, int64_t origin_ns) {
  for (const TimelineEvent& e : plan.timeline) {
    if (e.action.kind == ActionKind::kStatus) continue;
    run->fault(origin_ns + e.at_ms * 1'000'000, action_label(e.action), action_heals(e.action));
  }
}

}  // namespace herd
