#include "sim/replay.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <rapidjson/document.h>

#include "node/node.h"
#include "sim/hash.h"
#include "sim/json_bytes.h"
#include "sim/trace.h"

namespace herd {
namespace {

// Trace lines can hold whole Places bodies; this bounds one line's memory.
constexpr size_t kLineBytesMax = 64u << 20;

using Value = rapidjson::Value;

std::optional<std::string> string_of(const Value& object, const char* key) {
  if (!object.IsObject() || !object.HasMember(key) || !object[key].IsString()) return std::nullopt;
  return bytes_from_json(std::string_view(object[key].GetString(), object[key].GetStringLength()));
}

std::optional<int64_t> int_of(const Value& object, const char* key) {
  if (!object.IsObject() || !object.HasMember(key) || !object[key].IsInt64()) return std::nullopt;
  return object[key].GetInt64();
}

std::optional<uint64_t> uint_of(const Value& object, const char* key) {
  if (!object.IsObject() || !object.HasMember(key) || !object[key].IsUint64()) return std::nullopt;
  return object[key].GetUint64();
}

std::string read_header(const Value& h, TraceHeader* out) {
  if (!h.IsObject() || int_of(h, "herd_trace") != 1) return "not a herd trace (no \"herd_trace\":1)";
  out->source = string_of(h, "source").value_or("");
  if (auto seed = uint_of(h, "seed")) out->seed = *seed;
  out->scenario = string_of(h, "scenario").value_or("");
  if (!h.HasMember("topology") || !h["topology"].IsObject()) return "header: topology missing";
  const Value& t = h["topology"];
  out->topology.name = string_of(t, "name").value_or("");
  if (!t.HasMember("nodes") || !t["nodes"].IsArray() || !t.HasMember("links") || !t["links"].IsArray()) {
    return "header: topology.nodes and topology.links must be arrays";
  }
  for (const Value& n : t["nodes"].GetArray()) {
    auto name = string_of(n, "name");
    auto host = string_of(n, "host");
    auto port = int_of(n, "port");
    if (!name || !host || !port) return "header: topology.nodes: need name, host, port";
    out->topology.nodes.push_back({*name, *host, static_cast<int>(*port)});
  }
  for (const Value& l : t["links"].GetArray()) {
    auto a = l.IsArray() && l.Size() == 2 && l[0].IsString() ? bytes_from_json(l[0].GetString()) : std::nullopt;
    auto b = l.IsArray() && l.Size() == 2 && l[1].IsString() ? bytes_from_json(l[1].GetString()) : std::nullopt;
    if (!a || !b) return "header: topology.links: need pairs of names";
    out->topology.links.emplace_back(*a, *b);
  }
  if (!h.HasMember("nodes") || !h["nodes"].IsArray() || h["nodes"].Empty()) return "header: nodes missing";
  for (const Value& n : h["nodes"].GetArray()) {
    NodeConfig c;
    auto name = string_of(n, "name");
    auto records = uint_of(n, "max_records");
    auto pending = uint_of(n, "max_pending_places");
    auto api = string_of(n, "places_api");
    if (!name || !records || !pending || !api || !n.HasMember("neighbours") || !n["neighbours"].IsArray()) {
      return "header: nodes: need name, neighbours, max_records, max_pending_places, places_api";
    }
    c.name = *name, c.max_records = *records, c.max_pending_places = *pending;
    if (*api != "legacy" && *api != "new") return "header: nodes: places_api must be legacy or new";
    c.places_api = *api == "new" ? PlacesApi::kNew : PlacesApi::kLegacy;
    for (const Value& peer : n["neighbours"].GetArray()) {
      auto text = peer.IsString() ? bytes_from_json(std::string_view(peer.GetString(), peer.GetStringLength())) : std::nullopt;
      if (!text) return "header: nodes: neighbours must be names";
      if (!c.neighbours.empty() && !(c.neighbours.back() < *text)) return "header: nodes: neighbours must be sorted and unique";
      c.neighbours.push_back(*text);
    }
    out->nodes.push_back(std::move(c));
  }
  return "";
}

// The effects one call produced, for a person reading a divergence.
std::string describe(std::span<const Effect> outputs) {
  static const char* kKinds[] = {"reply", "send", "places", "log"};
  std::string out;
  for (const Effect& e : outputs) {
    out += "\n    " + std::string(kKinds[static_cast<int>(e.kind)]);
    if (e.kind == EffectKind::kSendPeer) out += " peer#" + std::to_string(e.peer);
    if (e.kind == EffectKind::kReply || e.kind == EffectKind::kPlacesRequest) out += " conn " + std::to_string(e.conn);
    std::string text = e.bytes.size() > 160 ? e.bytes.substr(0, 160) + "..." : e.bytes;
    out += " " + json_bytes(text);
  }
  return out.empty() ? "\n    (no effects)" : out;
}

class Replayer {
 public:
  Replayer(std::string_view source, std::unique_ptr<TraceWriter> rewrite)
      : source_(source), rewrite_(std::move(rewrite)) {}

  // Returns "" or an error; *diverged tells a divergence from a malformed line.
  std::string input(const Value& v, uint64_t line_no, bool* diverged);
  // Feeds one input of kind `kind` to its node, filling `in`; "" or what is malformed.
  std::string feed(const Value& v, std::string_view kind, TraceInput* in, std::optional<std::string>* text,
                   PlacesResult* places);
  // "" or what is wrong; *diverged tells a mismatch from a malformed end line.
  std::string end(const Value& v, bool* diverged);
  void start(const TraceHeader& header) {
    header_ = header;
    for (size_t i = 0; i < header.nodes.size(); ++i) {
      nodes_.emplace_back(header.nodes[i]);
      index_[header.nodes[i].name] = static_cast<int>(i);
    }
  }
  uint64_t inputs() const { return next_; }
  std::string finish() {
    if (!rewrite_) return "";
    std::vector<const Node*> nodes;
    for (const Node& n : nodes_) nodes.push_back(&n);
    return rewrite_->close(nodes);
  }

 private:
  std::string where(uint64_t line_no) const {
    return std::string(source_) + ": line " + std::to_string(line_no) + ": ";
  }
  std::string source_;
  std::unique_ptr<TraceWriter> rewrite_;
  TraceHeader header_;
  std::vector<Node> nodes_;
  std::map<std::string, int, std::less<>> index_;
  Effects out_;
  uint64_t next_ = 0;
};

std::string Replayer::input(const Value& v, uint64_t line_no, bool* diverged) {
  auto i = uint_of(v, "i");
  auto node_name = string_of(v, "node");
  auto kind = string_of(v, "in");
  auto expected = string_of(v, "out");
  if (!i || !node_name || !kind || !expected || !v.HasMember("t") || !v["t"].IsArray() || v["t"].Size() != 2 ||
      !v["t"][0].IsInt64() || !v["t"][1].IsInt64()) {
    return where(line_no) + "malformed input line (need i, t, node, in, out)";
  }
  if (*i != next_) {
    *diverged = true;
    return where(line_no) + "event " + std::to_string(next_) + ": expected input #" + std::to_string(next_) +
           ", found #" + std::to_string(*i) + " (an input is missing, extra or out of order)";
  }
  auto it = index_.find(*node_name);
  if (it == index_.end()) return where(line_no) + "unknown node " + json_bytes(*node_name);
  TraceInput in;
  in.node = it->second;
  in.now = Now{v["t"][0].GetInt64(), v["t"][1].GetInt64()};
  std::optional<std::string> text;
  PlacesResult places;
  out_.clear();
  const std::string error = feed(v, *kind, &in, &text, &places);
  if (!error.empty()) return where(line_no) + error;
  ++next_;
  if (rewrite_) rewrite_->on_input(in, out_);
  const std::string got = hex16(output_hash(out_));
  if (got != *expected) {
    *diverged = true;
    return where(line_no) + "first divergence at event " + std::to_string(*i) + ", server " + *node_name +
           ", input " + *kind + ": expected outputs " + *expected + " (" +
           std::to_string(uint_of(v, "n").value_or(0)) + " effects), got " + got + " (" +
           std::to_string(out_.size()) + " effects):" + describe(out_);
  }
  return "";
}

std::string Replayer::feed(const Value& v, std::string_view kind, TraceInput* in,
                           std::optional<std::string>* text, PlacesResult* places) {
  Node& node = nodes_[static_cast<size_t>(in->node)];
  auto peer_of = [&]() {
    auto peer = string_of(v, "peer");
    return peer ? node.peer_index(*peer) : -1;
  };
  if (kind == "client") {
    auto conn = uint_of(v, "conn");
    *text = string_of(v, "line");
    if (!conn || !*text) return "client input needs conn and line";
    in->kind = InputKind::kClientLine, in->conn = *conn, in->text = **text;
    node.on_client_line(in->conn, in->text, in->now, &out_);
  } else if (kind == "peer") {
    in->peer = peer_of();
    *text = string_of(v, "msg");
    if (in->peer < 0 || !*text) return "peer input needs a neighbour's name and msg";
    in->kind = InputKind::kPeerMessage, in->text = **text;
    node.on_peer_message(in->peer, in->text, in->now, &out_);
  } else if (kind == "places") {
    auto request = uint_of(v, "request");
    auto status = int_of(v, "status");
    auto body = string_of(v, "body");
    auto failure = string_of(v, "failure");
    if (!request || !status || !body || !failure || !v.HasMember("ok") || !v["ok"].IsBool()) {
      return "places input needs request, ok, status, body, failure";
    }
    places->transport_ok = v["ok"].GetBool(), places->http_status = static_cast<int>(*status);
    places->body = std::move(*body), places->failure = std::move(*failure);
    in->kind = InputKind::kPlacesResult, in->request = *request, in->places = places;
    node.on_places_result(in->request, *places, in->now, &out_);
  } else if (kind == "link_up" || kind == "link_down") {
    in->peer = peer_of();
    if (in->peer < 0) return "link input needs a neighbour's name";
    in->kind = kind == "link_up" ? InputKind::kLinkUp : InputKind::kLinkDown;
    if (in->kind == InputKind::kLinkUp) node.on_link_up(in->peer, in->now, &out_);
    else node.on_link_down(in->peer, in->now, &out_);
  } else if (kind == "crash") {
    in->kind = InputKind::kCrash;
    node.crash();
  } else if (kind == "restart") {
    // As the hosts restart a server: a fresh Node with the same configuration.
    in->kind = InputKind::kRestart;
    node = Node(header_.nodes[static_cast<size_t>(in->node)]);
  } else {
    return "unknown input kind " + json_bytes(kind);
  }
  return "";
}

// A digest as trace_end_line writes it: hex16, 16 lowercase hex digits.
bool is_digest(std::string_view text) {
  return text.size() == 16 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The end line's form: {"end":true,"inputs":K,"digest":D}, nothing else.
std::string check_end_line(const Value& v) {
  for (const auto& member : v.GetObject()) {
    const std::string_view key(member.name.GetString(), member.name.GetStringLength());
    if (key != "end" && key != "inputs" && key != "digest") {
      return "end line: unknown key " + json_bytes(key) + " (end, inputs, digest)";
    }
  }
  if (!v["end"].IsTrue()) return "end line: \"end\" must be true";
  if (!uint_of(v, "inputs")) return "end line: \"inputs\" must be an integer >= 0";
  if (!v.HasMember("digest") || !v["digest"].IsString()) {
    return "end line: \"digest\" must be 16 lowercase hex digits";
  }
  const std::string_view digest(v["digest"].GetString(), v["digest"].GetStringLength());
  if (!is_digest(digest)) {
    return "end line: \"digest\" must be 16 lowercase hex digits, got " + json_bytes(digest);
  }
  return "";
}

std::string Replayer::end(const Value& v, bool* diverged) {
  if (std::string error = check_end_line(v); !error.empty()) return error;
  *diverged = true;
  auto inputs = uint_of(v, "inputs");
  auto digest = string_of(v, "digest");
  if (*inputs != next_) {
    return "event " + std::to_string(next_) + ": missing: the end line counts " + std::to_string(*inputs) +
           " inputs, the trace holds " + std::to_string(next_) + " (inputs are missing at the end)";
  }
  std::vector<const Node*> nodes;
  for (const Node& n : nodes_) nodes.push_back(&n);
  const std::string got = hex16(state_digest(nodes));
  if (got != *digest) return "end: final state digest expected " + *digest + ", got " + got;
  return "";
}

}  // namespace

ReplayResult replay_trace(std::istream& in, std::string_view source, const std::string& rewrite_path) {
  ReplayResult result;
  std::string line;
  uint64_t line_no = 0;
  auto bad = [&](std::string message) {
    result.status = ReplayResult::Status::kBadTrace;
    result.message = std::move(message);
    return result;
  };
  if (!std::getline(in, line)) return bad(std::string(source) + ": empty trace");
  ++line_no;
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  TraceHeader header;
  std::string error = doc.HasParseError() ? "header is not JSON" : read_header(doc, &header);
  if (!error.empty()) return bad(std::string(source) + ": line 1: " + error);
  std::unique_ptr<TraceWriter> writer;
  if (!rewrite_path.empty()) {
    auto w = TraceWriter::open(rewrite_path, header);
    if (!w.ok()) return bad(w.error());
    writer = std::move(w.value());
  }
  Replayer replayer(source, std::move(writer));
  replayer.start(header);
  while (std::getline(in, line)) {
    ++line_no;
    if (line.size() > kLineBytesMax) return bad(std::string(source) + ": line " + std::to_string(line_no) + ": too long");
    if (result.ended) return bad(std::string(source) + ": line " + std::to_string(line_no) + ": text after the end line");
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return bad(std::string(source) + ": line " + std::to_string(line_no) + ": not a JSON object");
    }
    if (doc.HasMember("end")) {
      result.ended = true;
      bool diverged = false;
      error = replayer.end(doc, &diverged);
      if (!error.empty()) {
        error = std::string(source) + ": line " + std::to_string(line_no) + ": " + error;
        if (!diverged) return bad(error);
        result.status = ReplayResult::Status::kDiverged;
        result.inputs = replayer.inputs();
        result.message = error;
        return result;
      }
      continue;
    }
    bool diverged = false;
    error = replayer.input(doc, line_no, &diverged);
    result.inputs = replayer.inputs();
    if (!error.empty()) {
      if (!diverged) return bad(error);
      result.status = ReplayResult::Status::kDiverged;
      result.message = error;
      return result;
    }
  }
  error = replayer.finish();
  if (!error.empty()) return bad(error);
  result.status = result.ended ? ReplayResult::Status::kMatch : ReplayResult::Status::kCutShort;
  if (!result.ended && result.inputs == 0) {
    result.message = std::string(source) + ": only a header, no input and no end line (a recording cut short)";
  } else if (!result.ended) {
    result.message = std::string(source) + ": " + std::to_string(result.inputs) +
                     " inputs replayed and every output matches, but there is no end line (a recording cut "
                     "short), so the final state is unchecked";
  }
  return result;
}

ReplayResult replay_file(const std::string& path, const std::string& rewrite_path) {
  ReplayResult result;
  // Why open(2) first: ifstream opens a directory and says nothing of errno.
  struct stat st;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.message = path + ": " + std::strerror(errno);
    return result;
  }
  const bool directory = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
  ::close(fd);
  if (directory) {
    result.message = path + ": is a directory";
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.message = path + ": cannot read";
    return result;
  }
  return replay_trace(in, path, rewrite_path);
}

}  // namespace herd
