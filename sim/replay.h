// `herd replay`: feeds a trace's inputs (sim/trace.h) to fresh nodes, in the order
// and at the times recorded, and checks that every input gives the same outputs
// (by hash) and that the final states match the trace's digest. A missing, extra or
// reordered input shows as an index gap ("i"), so it is caught even when the
// outputs around it would not change. Works for traces from `herd sim` and from a
// live `herd run`: connection and request ids are taken as recorded, whatever they are.
#pragma once
#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "node/peer_auth.h"
#include <string_view>

namespace herd {

class TraceWriter;

struct ReplayResult {
  enum class Status {
    kMatch,     // Every output matched, and the end line's count and digest.
    kDiverged,  // An output, the count of inputs or the final digest differs.
    kCutShort,  // Every output matched, but there is no end line to check.
    kBadTrace,  // Not a trace, or a malformed line (a bad end line's digest too).
  };
  Status status = Status::kBadTrace;
  uint64_t inputs = 0;   // Inputs replayed (up to and including a divergent one).
  bool ended = false;    // The trace had its end line.
  std::string message;   // What happened, for a person, beginning with the trace's
                         // name (not for kMatch): "x.trace: line 4: ...",
                         // "x: is a directory", "x: No such file or directory".
};

// `source` names the trace in messages. When `rewrite` is given, every replayed
// input is written to it (a replay of a good trace rewrites it byte for byte). A
// trace of a herd whose peers authenticated needs its herd key (`key`, whose id
// must be the header's "auth").
ReplayResult replay_trace(std::istream& in, std::string_view source, const std::string& rewrite_path = "",
                          const std::optional<AuthKey>& key = std::nullopt);
ReplayResult replay_file(const std::string& path, const std::string& rewrite_path = "",
                         const std::optional<AuthKey>& key = std::nullopt);

}  // namespace herd
