// Record and replay (DESIGN.md: a run is a function of its inputs). A trace is the
// sequence of every input fed to every node, in the order the host fed them, each
// with its time and a hash of the effects the node returned; `herd replay` feeds the
// same inputs to fresh nodes and checks every hash.
//
// Format: JSON lines. Byte strings (lines, messages, bodies) are written with
// json_bytes.h's rules, so any bytes a client sent survive the round trip.
//   line 1, the header:
//     {"herd_trace":1,"source":"sim"|"live","seed":7,"scenario":"...",
//      "topology":{"name":..,"nodes":[{"name":..,"host":..,"port":..}],"links":[[a,b]]},
//      "nodes":[{"name":"n0","neighbours":["n1","n4"],"max_records":2000000,
//                "max_pending_places":10000,"places_api":"legacy"|"new"}, ...]}
//     ("seed" and "scenario" only when known; replay rebuilds nodes from "nodes".)
//   one line per input, "i" counting from 0 and "t" = [wall_ns, mono_ns]:
//     {"i":0,"t":[W,M],"node":"n0","in":"client","conn":17,"line":"IAMAT ...","out":H,"n":N}
//     {"i":1,...,"in":"peer","peer":"n1","msg":"FLOOD 1 AT ...",...}
//     {"i":2,...,"in":"places","request":3,"ok":true,"status":200,"body":"...","failure":"",...}
//     {"i":3,...,"in":"link_up"|"link_down","peer":"n1",...}
//     {"i":4,...,"in":"crash",...}    Node::crash()
//     {"i":5,...,"in":"restart",...}  the node is replaced by a fresh Node(config)
//   H is output_hash() of the effects that one call appended (16 hex digits), N their
//   count. Connection ids and request ids are whatever the host used (any uint64).
//   last line, when the writer was closed: {"end":true,"inputs":K,"digest":D}, D being
//   state_digest() of the nodes at the end (absent when a live host died first).
//
// Using TraceWriter from a host (the live host: one writer for the process):
//   auto w = TraceWriter::open("run.trace", header);      // Result<unique_ptr<..>>
//   size_t before = out.size();
//   node.on_client_line(conn, line, now, &out);
//   w->client_line(node_index, conn, line, now, effects_since(out, before));
//   ... likewise peer_message / places_result / link_up / link_down, and crash() or
//   restart() when the host crashes or restarts a node;
//   w->close(nodes);   // footer with the final digest; returns the first write error.
// node_index is the node's index in header.nodes. Call the writer right after the
// node call, before applying the effects (which may feed other nodes), so the trace
// holds inputs in the order the nodes saw them. Single-threaded, like the hosts.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "node/clock.h"
#include "node/effects.h"
#include "node/input_observer.h"
#include "node/node.h"
#include "node/places.h"
#include "node/result.h"
#include "node/topology.h"

namespace herd {

// A hash of effects as data (kind, conn, peer, request, bytes, query), in order.
uint64_t output_hash(std::span<const Effect> outputs);
// A hash of nodes' final states: for each node in the given order, its name and
// every record's AT line in client order (RecordTable::for_each_sorted).
uint64_t state_digest(const std::vector<const Node*>& nodes);

struct TraceHeader {
  std::string source = "sim";           // "sim" or "live".
  std::optional<uint64_t> seed;
  std::string scenario;                 // Empty when none.
  Topology topology;
  std::vector<NodeConfig> nodes;        // The nodes inputs name by index.
};

std::string trace_header_line(const TraceHeader& header);  // Without '\n'.
// One input line (without '\n'); `names` are the header's node names.
std::string trace_input_line(uint64_t index, const TraceInput& input,
                             std::span<const Effect> outputs,
                             const std::vector<NodeConfig>& nodes);
std::string trace_end_line(uint64_t inputs, uint64_t digest);

class TraceWriter final : public InputObserver {
 public:
  // Creates (truncates) `path` and writes the header. Errors: "PATH: cannot write: ...".
  static Result<std::unique_ptr<TraceWriter>> open(const std::string& path, TraceHeader header);
  ~TraceWriter() override;  // Closes without a footer if close() was not called.
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void on_input(const TraceInput& input, std::span<const Effect> outputs) override;

  void client_line(int node, ConnId conn, std::string_view line, Now now, std::span<const Effect> out);
  void peer_message(int node, int peer, std::string_view message, Now now, std::span<const Effect> out);
  void places_result(int node, RequestId request, const PlacesResult& result, Now now,
                     std::span<const Effect> out);
  void link_up(int node, int peer, Now now, std::span<const Effect> out);
  void link_down(int node, int peer, Now now, std::span<const Effect> out);
  void crash(int node, Now now);
  void restart(int node, Now now);

  // Writes the footer with state_digest(nodes) (in header order), flushes and
  // closes. Returns "" or the first write error. Later inputs are ignored.
  std::string close(const std::vector<const Node*>& nodes);

  uint64_t inputs() const { return inputs_; }
  // Limits: past this many bytes the writer stops and close() reports it.
  static constexpr uint64_t kBytesMax = uint64_t{64} << 30;

 private:
  TraceWriter(std::FILE* file, std::string path, TraceHeader header);
  void write_line(const std::string& line);

  std::FILE* file_;
  std::string path_;
  TraceHeader header_;
  uint64_t inputs_ = 0;
  uint64_t bytes_ = 0;
  std::string error_;
};

}  // namespace herd
