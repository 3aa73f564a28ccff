// Shared by the fault-layer tests: the five-server herd of the faults-file example.
#pragma once
#include "node/fault_action.h"

namespace herd {

// Riley-Jaquez, Riley-Juzang, Juzang-Campbell, Jaquez-Bernard, Campbell-Bernard,
// Juzang-Bernard: 12 directed links.
inline FaultTopology test_topology() {
  FaultTopology topology;
  topology.nodes = {"Riley", "Jaquez", "Juzang", "Campbell", "Bernard"};
  topology.links = {{"Riley", "Jaquez"},   {"Riley", "Juzang"},    {"Juzang", "Campbell"},
                    {"Jaquez", "Bernard"}, {"Campbell", "Bernard"}, {"Juzang", "Bernard"}};
  return topology;
}

}  // namespace herd
