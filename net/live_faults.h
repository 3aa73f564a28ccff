// The fault layer of a live herd (`herd run`): one FaultState for the whole
// topology, seeded from the run's seed; its FaultChannel, through which every
// hosted server's peer writes pass (send()), with held copies on a UvScheduler; the
// faults file's timeline on the loop; and the console commands (read by
// net/console.h from stdin and the admin port), which it applies, performs (crash,
// restart, reset, pause, resume and status need the servers) and answers. Faults
// touch server-to-server traffic only: client connections never pass through here.
//
// Counting (node/fault_state.h): the channel counts what it decides; the server
// counts a protocol message `delivered` when its bytes reach the kernel and `lost`
// when its connection dies with it unwritten; the node counts what its links lost
// while down or full. The status line adds them up.
//
// Logs, in the existing one-event-per-line format (net/log_writer.h), event "fault":
//   fault drop Riley>Jaquez msg#17                 the sending server's log, for every
//   fault delay Riley>Jaquez msg#3 delay_ns=...     injected fault on its outgoing
//   fault duplicate Riley>Jaquez msg#4 delay_ns=a,b messages (node/fault_model.h)
//   fault cut Riley>Jaquez msg#5 [held]
//   fault blackhole Riley>Jaquez msg#6 [held]
//   fault seed 7 sub-seed=... links drop=0.1 delay=0ms dup=0 overrides=1 timeline=2
//                                                  every server's log, at start
//   fault cut Riley>Jaquez Jaquez>Riley (admin 127.0.0.1:40422)
//   fault crash Juzang (timeline at_ms=1000)        a console command or timeline
//                                                  event, in the affected servers'
//                                                  logs: what it did (the answer
//                                                  after "ok: ") and where it came from
//
// Owned by HerdHost, which declares it before its servers: it outlives the
// FaultyLinks it made. REQUIRES: close() before the loop's last run.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "net/uv_scheduler.h"
#include "node/effects.h"
#include "node/fault_action.h"
#include "node/fault_channel.h"
#include "node/fault_state.h"

namespace herd {

class LogWriter;
class ServerHost;

struct FaultSetup {
  uint64_t seed = 1;  // The run's seed; the fault layer's sub-seed is its first draw.
  FaultPlan plan;     // Defaults, overrides and timeline (faults file and flags).
  // Told the outcome of each timeline event: "timeline at_ms=1000: ok: crash Juzang".
  std::function<void(std::string_view)> report;
  // Told of each timeline event that was carried out (the scenario runner's metrics).
  std::function<void(const FaultAction&)> applied;
};

// The fault layer's sub-seed: the first draw of the run's Rng, as in `herd sim`
// (links first, then workload, then places), so one seed means one set of fault
// streams in both.
uint64_t fault_sub_seed(uint64_t run_seed);

// The servers whose logs record an action, in topology order: both ends of a link
// (cut, heal, set), every server (heal all, partition), the server (crash,
// restart), none (status).
std::vector<std::string> affected_servers(const FaultAction& action,
                                          const FaultTopology& topology);

// Logs "fault <kind> <rest>" as event "fault", subject <kind>, text <rest>.
void log_fault(LogWriter* log, std::string_view text);

// The answer to `help`.
extern const char kConsoleHelp[];

class LiveFaults {
 public:
  using FindServer = std::function<ServerHost*(std::string_view name)>;

  LiveFaults(uv_loop_t* loop, FaultTopology topology, FaultSetup setup, FindServer find);
  LiveFaults(const LiveFaults&) = delete;
  LiveFaults& operator=(const LiveFaults&) = delete;

  // A message `host` writes to its connection `conn`, the directed link `link`:
  // through the channel, now or after its delay (host->write_peer).
  void send(ServerHost* host, int link, ConnId conn, Traffic traffic, std::string message);

  // The connection carrying `link` closed: its bandwidth queue empties.
  void closed(int link) { channel_.closed(link, scheduler_.now().mono_ns); }

  // Writes the seed and settings to every hosted server's log (after their open()).
  void log_start();
  // Schedules the timeline, at_ms counted from now (the herd's ready). Once.
  void start_timeline();

  // One console line (stdin or admin, `source` says which) -> its answer: nothing
  // for a blank line; otherwise lines, each ending with '\n':
  //   ok: <what was done>          cut, heal, partition, set, crash, restart
  //   error: <why>                 nothing was changed
  //   link ... / server ...        status (FaultState::status_lines)
  //   <help lines>                 help
  std::string execute(std::string_view line, std::string_view source);
  // Checks, applies and performs one action; logs it when it succeeds.
  CommandOutcome apply(const FaultAction& action, std::string_view source);

  std::vector<std::string> status_lines() const;
  const FaultState& state() const { return state_; }
  FaultState& state() { return state_; }

  // Drops held copies and pending timeline events. Idempotent.
  void close();

 private:
  void run_event(size_t index);
  void log_action(const FaultAction& action, const CommandOutcome& outcome,
                  std::string_view source);
  CommandOutcome restart(const std::string& name);

  FaultTopology topology_;
  FaultSetup setup_;
  FindServer find_;
  FaultState state_;
  FaultChannel channel_;
  UvScheduler scheduler_;
  bool timeline_started_ = false;
};

}  // namespace herd
