#include "sim/replay.h"

#include "sim/read_line.h"

#include "crypto/sodium_mac.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "node/driver.h"
#include "node/json_bytes.h"
#include "node/trace_format.h"
#include "sim/trace.h"

namespace herd {
namespace {

// The effects one call produced, for a person reading a divergence.
std::string describe(std::span<const Effect> outputs) {
  static const char* kKinds[] = {"reply", "places", "log", "send", "dial", "close", "adopt", "timer", "link-up", "link-down"};
  std::string out;
  for (const Effect& e : outputs) {
    out += "\n    " + std::string(kKinds[static_cast<int>(e.kind)]);
    if (e.peer >= 0) out += " peer#" + std::to_string(e.peer);
    if (e.conn != 0) out += " conn " + std::to_string(e.conn);
    if (e.kind == EffectKind::kTimer) out += " timer " + std::to_string(e.timer) + " at " + std::to_string(e.at_ns);
    std::string text = e.bytes.size() > 160 ? e.bytes.substr(0, 160) + "..." : e.bytes;
    if (!text.empty()) out += " " + json_bytes(text);
  }
  return out.empty() ? "\n    (no effects)" : out;
}

class Replayer {
 public:
  Replayer(std::string_view source, const TraceHeader& header, TraceWriter* rewrite) : source_(source) {
    for (size_t i = 0; i < header.nodes.size(); ++i) {
      drivers_.push_back(std::make_unique<NodeDriver>(header.nodes[i], static_cast<int>(i)));
      if (rewrite != nullptr) drivers_.back()->add_observer(rewrite);
    }
  }
  // "" or the first divergence.
  std::string input(const TraceRecord& r, uint64_t line_no) {
    if (r.index != next_) {
      return where(line_no) + "event " + std::to_string(next_) + ": expected input #" + std::to_string(next_) +
             ", found #" + std::to_string(r.index) + " (an input is missing, extra or out of order)";
    }
    ++next_;
    NodeDriver& d = *drivers_[static_cast<size_t>(r.node)];
    NodeDriver::Step step = d.step(r.input);
    const Effects& out = step.effects();
    const uint64_t got = output_hash(out);
    if (got == r.out_hash && out.size() == r.out_count) return "";
    return where(line_no) + "first divergence at event " + std::to_string(r.index) + ", server " +
           d.node().config().name + ", input " + r.kind + ": expected outputs " + hex16(r.out_hash) + " (" +
           std::to_string(r.out_count) + " effects), got " + hex16(got) + " (" + std::to_string(out.size()) +
           " effects):" + describe(out);
  }
  std::string end(const TraceEnd& e, uint64_t line_no) {
    if (e.inputs != next_) {
      return where(line_no) + "event " + std::to_string(next_) + ": missing: the end line counts " +
             std::to_string(e.inputs) + " inputs, the trace holds " + std::to_string(next_) +
             " (inputs are missing at the end)";
    }
    const uint64_t got = state_digest(nodes());
    if (got != e.digest) {
      return where(line_no) + "end: final state digest expected " + hex16(e.digest) + ", got " + hex16(got);
    }
    return "";
  }
  std::vector<const Node*> nodes() const {
    std::vector<const Node*> out;
    for (const auto& d : drivers_) out.push_back(&d->node());
    return out;
  }
  uint64_t inputs() const { return next_; }
  std::string where(uint64_t line_no) const { return source_ + ": line " + std::to_string(line_no) + ": "; }

 private:
  std::string source_;
  std::vector<std::unique_ptr<NodeDriver>> drivers_;
  uint64_t next_ = 0;
};

}  // namespace

ReplayResult replay_trace(std::istream& in, std::string_view source, const std::string& rewrite_path,
                          const std::optional<AuthKey>& key) {
  ReplayResult result;
  const std::string name(source);
  auto bad = [&](std::string message) {
    result.status = ReplayResult::Status::kBadTrace;
    result.message = std::move(message);
    return result;
  };
  std::string line;
  ReadLine read = read_line(in, kTraceHeaderBytesMax, &line);
  if (read == ReadLine::kEof) return bad(name + ": empty trace");
  if (read == ReadLine::kTooLong) {
    return bad(name + ": line 1: header longer than " + std::to_string(kTraceHeaderBytesMax) + " bytes");
  }
  Result<TraceHeader> header = parse_trace_header(line);
  if (!header.ok()) return bad(name + ": line 1: " + header.error());
  if (!header.value().auth.empty()) {
    if (!key) {
      return bad(name + ": recorded by a herd whose peers authenticate (key id " + header.value().auth +
                 "): replay it with that herd's --secret-file");
    }
    if (key_id(*key) != header.value().auth) {
      return bad(name + ": recorded with the herd key " + header.value().auth + "; this secret's is " + key_id(*key));
    }
    for (NodeConfig& node : header.value().nodes) node.auth = PeerAuth{&sodium_mac(), *key};
  }
  std::unique_ptr<TraceWriter> writer;
  if (!rewrite_path.empty()) {
    auto w = TraceWriter::open(rewrite_path, header.value());
    if (!w.ok()) return bad(w.error());
    writer = std::move(w.value());
  }
  Replayer replayer(source, header.value(), writer.get());
  TraceRecord record;
  TraceEnd end;
  for (uint64_t line_no = 2;; ++line_no) {
    read = read_line(in, kTraceLineBytesMax, &line);
    if (read == ReadLine::kEof) break;
    if (read == ReadLine::kTooLong) {
      return bad(replayer.where(line_no) + "longer than " + std::to_string(kTraceLineBytesMax) + " bytes");
    }
    if (result.ended) return bad(replayer.where(line_no) + "text after the end line");
    Result<TraceLineKind> kind = parse_trace_line(line, header.value(), &record, &end);
    if (!kind.ok()) return bad(replayer.where(line_no) + kind.error());
    const std::string error = kind.value() == TraceLineKind::kEnd ? replayer.end(end, line_no)
                                                                  : replayer.input(record, line_no);
    result.inputs = replayer.inputs();
    if (kind.value() == TraceLineKind::kEnd) result.ended = true;
    if (!error.empty()) {
      result.status = ReplayResult::Status::kDiverged;
      result.message = error;
      return result;
    }
  }
  if (writer) {
    const std::string error = writer->close(replayer.nodes());
    if (!error.empty()) return bad(error);
  }
  result.status = result.ended ? ReplayResult::Status::kMatch : ReplayResult::Status::kCutShort;
  if (!result.ended && result.inputs == 0) {
    result.message = name + ": only a header, no input and no end line (a recording cut short)";
  } else if (!result.ended) {
    result.message = name + ": " + std::to_string(result.inputs) +
                     " inputs replayed and every output matches, but there is no end line (a recording cut "
                     "short), so the final state is unchecked";
  }
  return result;
}

ReplayResult replay_file(const std::string& path, const std::string& rewrite_path,
                         const std::optional<AuthKey>& key) {
  ReplayResult result;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    result.message = path + ": " + std::strerror(errno);
    return result;
  }
  if (S_ISDIR(st.st_mode)) {
    result.message = path + ": is a directory";
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.message = path + ": " + std::strerror(errno);
    return result;
  }
  return replay_trace(in, path, rewrite_path, key);
}

}  // namespace herd
