#include "net/live_faults.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <utility>

#include "net/log_writer.h"
#include "net/peer_link.h"
#include "net/server_host.h"
#include "node/faulty_link.h"
#include "node/rng.h"

namespace herd {

const char kConsoleHelp[] =
    "cut A B | cut A>B             lose every message on a link, both ways | A to B only\n"
    "heal A B | heal A>B           undo a cut\n"
    "heal                          undo every cut and partition (crashed servers stay down)\n"
    "partition A,B C,D,E           heal, then cut every link between two groups (servers\n"
    "                              named in no group form one more group)\n"
    "set A B|A>B drop=P delay=D dup=P   change a link's faults, any of the keys; D is MS,\n"
    "                              MIN-MAX (uniform) or exp:MIN:MEAN, in milliseconds\n"
    "crash X                       close X's listener and connections, lose its records\n"
    "restart X                     X listens again on its port and relinks, empty\n"
    "status                        one line per directed link, then one per server\n"
    "help                          this text\n";

namespace {

// A PeerLink as the FaultyLink's inner link: counts a copy as delivered when the
// PeerLink writes it (it drops copies while its connection is down).
class CountingLink final : public Link {
 public:
  CountingLink(PeerLink* peer, FaultState* state, int link)
      : peer_(peer), state_(state), link_(link) {}
  void send(std::string_view message) override {
    const uint64_t before = peer_->sent();
    peer_->send(message);
    if (peer_->sent() != before) state_->count_delivered(link_);
  }
  bool up() const override { return peer_->up(); }

 private:
  PeerLink* peer_;
  FaultState* state_;
  int link_;
};

// What ServerHost sends through: the FaultyLink around the counting link.
class LiveLink final : public Link {
 public:
  LiveLink(PeerLink* peer, Scheduler* scheduler, FaultState* state, int link,
           FaultyLink::FaultLog log)
      : counting_(peer, state, link), faulty_(&counting_, scheduler, state, link, std::move(log)) {}
  void send(std::string_view message) override { faulty_.send(message); }
  bool up() const override { return faulty_.up(); }

 private:
  CountingLink counting_;  // Declared first: the FaultyLink refers to it.
  FaultyLink faulty_;
};

std::string_view trim(std::string_view text) {
  const char* blanks = " \t\r\n\f\v";
  const size_t first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

void push_unique(std::vector<std::string>* names, const std::string& name) {
  if (std::find(names->begin(), names->end(), name) == names->end()) names->push_back(name);
}

}  // namespace

uint64_t fault_sub_seed(uint64_t run_seed) { return Rng(run_seed).draw_seed(); }

std::vector<std::string> affected_servers(const FaultAction& action,
                                          const FaultTopology& topology) {
  std::vector<std::string> named;
  switch (action.kind) {
    case ActionKind::kCut:
    case ActionKind::kHeal:
    case ActionKind::kSet:
      named = {action.link.from, action.link.to};
      break;
    case ActionKind::kHealAll:
    case ActionKind::kPartition:
      return topology.nodes;
    case ActionKind::kCrash:
    case ActionKind::kRestart:
      named = {action.server};
      break;
    case ActionKind::kStatus:
      return {};
  }
  std::vector<std::string> servers;
  for (const std::string& node : topology.nodes) {
    if (std::find(named.begin(), named.end(), node) != named.end()) push_unique(&servers, node);
  }
  return servers;
}

void log_fault(LogWriter* log, std::string_view text) {
  constexpr std::string_view kPrefix = "fault ";
  if (text.starts_with(kPrefix)) text.remove_prefix(kPrefix.size());
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return log->event("fault", text);
  log->event("fault", text.substr(0, space), text.substr(space + 1));
}

LiveFaults::LiveFaults(uv_loop_t* loop, FaultTopology topology, FaultSetup setup,
                       FindServer find)
    : topology_(std::move(topology)),
      setup_(std::move(setup)),
      find_(std::move(find)),
      state_(topology_, fault_sub_seed(setup_.seed), setup_.plan),
      scheduler_(loop) {}

std::unique_ptr<Link> LiveFaults::wrap(PeerLink* inner) {
  const std::string& self = inner->config().self;
  const int link = state_.link_id(self, inner->config().peer);
  assert(link >= 0);
  auto log = [this, self](std::string_view text) {
    if (ServerHost* server = find_(self)) log_fault(&server->log(), text);
  };
  return std::make_unique<LiveLink>(inner, &scheduler_, &state_, link, std::move(log));
}

void LiveFaults::log_start() {
  const FaultPlan& plan = setup_.plan;
  const std::string text = "seed " + std::to_string(setup_.seed) +
                           " sub-seed=" + std::to_string(fault_sub_seed(setup_.seed)) +
                           " links " + plan.defaults.text() +
                           " overrides=" + std::to_string(plan.overrides.size()) +
                           " timeline=" + std::to_string(plan.timeline.size());
  for (const std::string& name : topology_.nodes) {
    if (ServerHost* server = find_(name)) log_fault(&server->log(), text);
  }
}

void LiveFaults::start_timeline() {
  if (timeline_started_) return;
  timeline_started_ = true;
  scheduler_.now();  // The base of every at_ms.
  for (size_t i = 0; i < setup_.plan.timeline.size(); ++i) {
    const int64_t at_ns = setup_.plan.timeline[i].at_ms * kNsPerMs;
    scheduler_.after(at_ns, [this, i] { run_event(i); });
  }
}

void LiveFaults::run_event(size_t index) {
  const TimelineEvent& event = setup_.plan.timeline[index];
  const std::string source = "timeline at_ms=" + std::to_string(event.at_ms);
  const CommandOutcome outcome = apply(event.action, source);
  if (setup_.report) setup_.report(source + ": " + outcome.answer);
}

std::string LiveFaults::execute(std::string_view line, std::string_view source) {
  line = trim(line);
  if (line.empty()) return "";
  if (line == "help") return kConsoleHelp;
  const Result<FaultAction> action = parse_command(line);
  if (!action.ok()) return "error: " + action.error() + "\n";
  const CommandOutcome outcome = apply(action.value(), source);
  if (outcome.ok && outcome.request == HostRequest::kStatus) {
    std::string text;
    for (const std::string& status : status_lines()) text.append(status).push_back('\n');
    return text;
  }
  return outcome.answer + "\n";
}

CommandOutcome LiveFaults::apply(const FaultAction& action, std::string_view source) {
  CommandOutcome outcome = state_.apply(action);
  if (!outcome.ok || outcome.request == HostRequest::kStatus) return outcome;
  // Logged first, so that what the command causes (closes, peer-down) follows it.
  log_action(action, outcome, source);
  if (outcome.request == HostRequest::kCrash) {
    if (ServerHost* server = find_(outcome.server)) server->crash();
  } else if (outcome.request == HostRequest::kRestart) {
    return restart(outcome.server);
  }
  return outcome;
}

// The state already says "up"; a failed listen puts it back to crashed.
CommandOutcome LiveFaults::restart(const std::string& name) {
  CommandOutcome outcome{true, "ok: restart " + name, HostRequest::kRestart, name};
  ServerHost* server = find_(name);
  if (server == nullptr) return outcome;
  const Result<bool> restarted = server->restart();
  if (restarted.ok()) return outcome;
  FaultAction crash;
  crash.kind = ActionKind::kCrash;
  crash.server = name;
  state_.apply(crash);
  const std::string error = name + ": " + restarted.error() + " (still crashed)";
  log_fault(&server->log(), "fault restart-failed " + error);
  return {false, "error: " + error};
}

void LiveFaults::log_action(const FaultAction& action, const CommandOutcome& outcome,
                            std::string_view source) {
  std::string_view done = outcome.answer;
  if (done.starts_with("ok: ")) done.remove_prefix(4);
  const std::string text = "fault " + std::string(done) + " (" + std::string(source) + ")";
  for (const std::string& name : affected_servers(action, topology_)) {
    if (ServerHost* server = find_(name)) log_fault(&server->log(), text);
  }
}

std::vector<std::string> LiveFaults::status_lines() const {
  std::map<std::string, uint64_t, std::less<>> records;
  for (const std::string& name : topology_.nodes) {
    if (ServerHost* server = find_(name)) records[name] = server->node().records().size();
  }
  return state_.status_lines(records);
}

void LiveFaults::close() { scheduler_.close(); }

}  // namespace herd
