// `herd run --scenario FILE`: a scenario's workload and fault timeline against the
// live herd on loopback, measured the way the simulator measures (sim/run_metrics.h
// observes every server's NodeDriver) and reported in the same format, so a live
// run and a simulated one of the same scenario and seed can be compared
// (`herd compare`). The herd is the real one: libuv sockets, the live fault layer,
// real time; its clients are the scenario's, drawn from the same seed as in the
// simulator (sub-seeds links, workload, places in that order), each command one
// connection (sim/cli/live_clients.h). Time 0 is the herd's "ready".
//
// The run ends after the workload, once no request is outstanding, every link
// between running servers is up and nothing was stored for half a second; or at
// duration + drain. WHATSATs ask the --places-url Places (default: a closed loopback
// port, answered at once with an UNKNOWN_ERROR body).
#pragma once
#include <string>

#include "net/herd_host.h"
#include "sim/scenario.h"

namespace herd {

struct LiveRunOptions {
  std::string scenario_path;
  uint64_t seed = 1;
  HostOptions host;     // Log directory, ports, Places; faults, sync and seed are set here.
  bool json = false;
  std::string output;   // Empty: stdout.
  std::string record;   // --record TRACE: every node input, as herd sim --record writes.
  std::string html;     // --html FILE: the HTML report (sim/html_report.h).
};

// Runs the scenario; the exit status (0 every check held, 1 one failed, 2 usage).
int run_live_scenario(const Scenario& scenario, LiveRunOptions options);

}  // namespace herd
