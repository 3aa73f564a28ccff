// The trace format, as pure code shared by every host: a live recording and a
// simulated one are the same bytes by construction, and `herd replay` reads both.
// A trace is the sequence of every input fed to every node, in the order the hosts
// fed them, each with its time and a hash of the effects it produced; replay feeds
// the same inputs to fresh nodes and checks every hash.
//
// JSON lines. Byte strings (lines, messages, bodies) use json_bytes.h's rules, so any
// bytes a client sent survive the round trip.
//   line 1, the header:
//     {"herd_trace":2,"source":"sim"|"live","seed":7,"scenario":"...","auth":"<key id>",
//      "topology":{"name":..,"nodes":[{"name":..,"host":..,"port":..}],"links":[[a,b]]},
//      "nodes":[NODE, ...]}   ("seed" and "scenario" only when known; "auth" only when
//                              the herd's peers authenticated: replay needs the secret)
//     NODE: {"name":"n0","neighbours":["n1","n4"],"max_records":N,"max_record_bytes":N,
//            "max_clock_skew_ns":N,"max_pending_places":N,
//            "places_api":"legacy"|"new","seed":N,
//            "link":{"backoff_min_ns":N,"backoff_max_ns":N,"hello_timeout_ns":N,
//                    "heartbeat_ns":N,"suspect_ns":N,"idle_timeout_ns":N},
//            "sync":{"mode":"off"|"link-up"|"periodic","interval_ns":N,"bytes_per_s":N,
//                    "session_timeout_ns":N,"keys_per_message":N,"queue_bytes_max":N,
//                    "keys_max":N}}
//   one line per input, "i" counting from 0 and "t" = [wall_ns, mono_ns]:
//     {"i":0,"t":[W,M],"node":"n0","in":"line","conn":17,"flags":1,"text":"IAMAT ...",..}
//     "in":"closed","conn":C,"text":WHY | "in":"dialed","peer":NAME,"attempt":A,"conn":C,
//     "text":WHY | "in":"backpressure","conn":C,"full":true | "in":"timer","timer":T |
//     "in":"places","request":R,"ok":true,"status":200,"body":..,"failure":.. |
//     "in":"crash" | "in":"start"
//     each ending with "out":H,"n":N: H = output_hash() of the effects (16 hex digits),
//     N their count. ("flags" only when not 0; "nonce":"<32 hex digits>" only on the
//     inputs that carried a handshake nonce.)
//   last line, when the recording was closed: {"end":true,"inputs":K,"digest":D},
//   D = state_digest() of the nodes at the end.
//
// Limits (a trace is input from anywhere): a header line of at most kTraceHeaderBytesMax
// bytes and kTraceNodesMax nodes, names as the topology parser allows them, timings
// of at most 2^52 ns and a sync rate of at most 2^40 bytes/s; an input line of at most
// kTraceLineBytesMax bytes, its times in 0..2^62 ns; JSON nested as deep as memory
// allows (parsed without recursion).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "node/effects.h"
#include "node/hash.h"
#include "node/input.h"
#include "node/node.h"
#include "node/result.h"
#include "node/topology.h"

namespace herd {

constexpr int kTraceVersion = 2;
constexpr size_t kTraceHeaderBytesMax = 64u << 20;
constexpr size_t kTraceLineBytesMax = 64u << 20;
constexpr size_t kTraceNodesMax = 1'000'000;

// A hash of effects as data (every field, in order).
uint64_t output_hash(std::span<const Effect> outputs);
// A hash of nodes' final states: for each node in the given order, its name and every
// record's AT line in client order.
uint64_t state_digest(const std::vector<const Node*>& nodes);

struct TraceHeader {
  std::string source = "sim";           // "sim" or "live".
  std::optional<uint64_t> seed;
  std::string scenario;                 // Empty when none.
  std::string auth;                     // The herd key's id when peers authenticated; else empty.
  Topology topology;
  std::vector<NodeConfig> nodes;        // The nodes inputs name by index.
  std::map<std::string, int, std::less<>> index;  // Name -> index (parse_trace_header).
};

std::string trace_header_line(const TraceHeader& header);  // Without '\n'.
// One input line (without '\n'); `node` indexes header.nodes.
std::string trace_input_line(uint64_t index, int node, const Input& input,
                             std::span<const Effect> outputs, const std::vector<NodeConfig>& nodes);
std::string trace_end_line(uint64_t inputs, uint64_t digest);

// Parses and validates a header line. Errors say what is wrong:
//   "header: nodes[1].name: must be a name (no white space, 1..64 bytes)".
Result<TraceHeader> parse_trace_header(std::string_view line);

// One parsed input line, owning what its Input's views point to.
struct TraceRecord {
  uint64_t index = 0;
  int node = 0;
  Input input;
  uint64_t out_hash = 0;
  uint64_t out_count = 0;
  std::string kind;  // As written: "line", "timer", ...
  std::string text;
  PlacesResult places;
  TraceRecord() = default;
  TraceRecord(const TraceRecord&) = delete;
  TraceRecord& operator=(const TraceRecord&) = delete;
};

// The end line's fields.
struct TraceEnd {
  uint64_t inputs = 0;
  uint64_t digest = 0;
};

// What a line after the header is.
enum class TraceLineKind { kInput, kEnd };
// Parses an input or end line against the header. Errors: "malformed input line
// (need i, t, node, in, out)", "unknown node \"x\"", "dialed input needs a
// neighbour's name, attempt and conn", "end line needs inputs and a 16-digit digest".
Result<TraceLineKind> parse_trace_line(std::string_view line, const TraceHeader& header,
                                       TraceRecord* record, TraceEnd* end);



}  // namespace herd
