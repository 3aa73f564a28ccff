#include "net/live_faults.h"

#include <algorithm>
#include <map>
#include <utility>

#include "net/log_writer.h"
#include "net/server_host.h"
#include "node/rng.h"

namespace herd {

const char kConsoleHelp[] =
    "cut A B | cut A>B             lose every message on a link, both ways | A to B only\n"
    "heal A B | heal A>B           undo a cut or a blackhole\n"
    "heal                          undo every cut, partition and blackhole (crashed servers\n"
    "                              stay down)\n"
    "partition A,B C,D,E           heal, then cut every link between two groups (servers\n"
    "                              named in no group form one more group)\n"
    "set A B|A>B drop=P delay=D dup=P bandwidth_kbps=N   change a link's faults, any of\n"
    "                              the keys; D is MS, MIN-MAX (uniform) or exp:MIN:MEAN,\n"
    "                              in milliseconds; bandwidth_kbps=0 removes the limit\n"
    "blackhole A B | blackhole A>B the connection stays open and swallows every byte\n"
    "reset A B                     tear the link's connection down now (it reconnects)\n"
    "crash X                       close X's listener and connections, lose its records\n"
    "restart X                     X listens again on its port and relinks, empty\n"
    "pause X | resume X            X stops processing (keeping its state) | goes on\n"
    "status                        one line per directed link, then one per server\n"
    "help                          this text\n";

namespace {

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
    case ActionKind::kBlackhole:
    case ActionKind::kReset:
      named = {action.link.from, action.link.to};
      break;
    case ActionKind::kHealAll:
    case ActionKind::kPartition:
      return topology.nodes;
    case ActionKind::kCrash:
    case ActionKind::kRestart:
    case ActionKind::kPause:
    case ActionKind::kResume:
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
      channel_(&state_),
      scheduler_(loop) {}

void LiveFaults::send(ServerHost* host, int link, ConnId conn, Traffic traffic, std::string message) {
  const ChannelCopies copies = channel_.offer(link, traffic, message.size(), scheduler_.now().mono_ns);
  if (traffic == Traffic::kProtocol) {
    const std::string text = fault_text(copies.decision, state_.label(link));
    if (!text.empty()) log_fault(&host->log(), text);
  }
  for (int i = 0; i < copies.count; ++i) {
    if (copies.immediate[i]) {
      host->write_peer(conn, traffic, message);
      continue;
    }
    const uint64_t msg = copies.decision.msg;
    scheduler_.after(copies.delay_ns[i], [this, host, link, conn, traffic, msg, copy = message] {
      if (channel_.due(link, traffic, host->conn_open(conn))) {
        host->write_peer(conn, traffic, copy);
      } else if (traffic == Traffic::kProtocol && (state_.blocked(link) || state_.blackholed(link))) {
        log_fault(&host->log(), std::string(state_.blocked(link) ? "fault cut " : "fault blackhole ") +
                                    state_.label(link) + " msg#" + std::to_string(msg) + " held");
      }
    });
  }
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
  if (outcome.ok && setup_.applied) setup_.applied(event.action);
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
  ServerHost* server = find_(outcome.server);
  switch (outcome.request) {
    case HostRequest::kCrash:
      if (server != nullptr) server->crash();
      break;
    case HostRequest::kRestart:
      return restart(outcome.server);
    case HostRequest::kPause:
      if (server != nullptr) server->pause();
      break;
    case HostRequest::kResume:
      if (server != nullptr) server->resume();
      break;
    case HostRequest::kReset:
      // One end suffices: the other sees the reset. In a herd of one process per
      // server, the end hosted here does it.
      if (server != nullptr) {
        server->reset_link(outcome.peer);
      } else if (ServerHost* other = find_(outcome.peer)) {
        other->reset_link(outcome.server);
      }
      break;
    case HostRequest::kNone:
    case HostRequest::kStatus:
      break;
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
  std::map<std::string, ServerHostView, std::less<>> servers;
  std::vector<LinkHostView> links(static_cast<size_t>(state_.link_count()));
  for (const std::string& name : topology_.nodes) {
    ServerHost* server = find_(name);
    if (server == nullptr) continue;
    const Node& node = server->node();
    const SyncStats& sync = node.sync_stats();
    servers[name] = ServerHostView{node.records().size(),
                                   "sync_sessions=" + std::to_string(sync.sessions) +
                                       " sync_messages=" + std::to_string(sync.messages) +
                                       " sync_bytes=" + std::to_string(sync.bytes) +
                                       " sync_records=" + std::to_string(sync.records_stored)};
    for (size_t p = 0; p < node.config().neighbours.size(); ++p) {
      const int link = state_.link_id(name, node.config().neighbours[p]);
      LinkHostView view = server->link_view(static_cast<int>(p));
      view.queued += channel_.held_protocol(link);  // The counters are of protocol messages.
      links[static_cast<size_t>(link)] = view;
    }
  }
  return state_.status_lines(links, servers);
}

void LiveFaults::close() { scheduler_.close(); }

}  // namespace herd
