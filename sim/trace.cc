#include "sim/trace.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "sim/hash.h"
#include "sim/json_bytes.h"

namespace herd {
namespace {

const char* kind_name(InputKind kind) {
  switch (kind) {
    case InputKind::kClientLine: return "client";
    case InputKind::kPeerMessage: return "peer";
    case InputKind::kPlacesResult: return "places";
    case InputKind::kLinkUp: return "link_up";
    case InputKind::kLinkDown: return "link_down";
    case InputKind::kCrash: return "crash";
    case InputKind::kRestart: return "restart";
  }
  return "?";
}

void append_names(std::string& out, const std::vector<std::string>& names) {
  out += '[';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    append_json_bytes(out, names[i]);
  }
  out += ']';
}

void append_topology(std::string& out, const Topology& t) {
  out += "{\"name\":";
  append_json_bytes(out, t.name);
  out += ",\"nodes\":[";
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"name\":";
    append_json_bytes(out, t.nodes[i].name);
    out += ",\"host\":";
    append_json_bytes(out, t.nodes[i].host);
    out += ",\"port\":" + std::to_string(t.nodes[i].port) + "}";
  }
  out += "],\"links\":[";
  for (size_t i = 0; i < t.links.size(); ++i) {
    if (i > 0) out += ',';
    append_names(out, {t.links[i].first, t.links[i].second});
  }
  out += "]}";
}

}  // namespace

uint64_t output_hash(std::span<const Effect> outputs) {
  Hasher h;
  h.u64(outputs.size());
  for (const Effect& e : outputs) {
    h.u64(static_cast<uint64_t>(e.kind));
    h.u64(e.conn);
    h.i64(e.peer);
    h.u64(e.request);
    h.text(e.bytes);
    if (e.kind == EffectKind::kPlacesRequest) {
      h.text(e.query.lat);
      h.text(e.query.lng);
      h.i64(e.query.radius_m);
      h.i64(e.query.bound);
    }
  }
  return h.value();
}

uint64_t state_digest(const std::vector<const Node*>& nodes) {
  Hasher h;
  for (const Node* node : nodes) {
    h.text(node->config().name);
    h.u64(node->records().size());
    node->records().for_each_sorted([&](const Record& r) { h.text(r.at_line()); });
  }
  return h.value();
}

std::string trace_header_line(const TraceHeader& header) {
  std::string out = "{\"herd_trace\":1,\"source\":";
  append_json_bytes(out, header.source);
  if (header.seed) out += ",\"seed\":" + std::to_string(*header.seed);
  if (!header.scenario.empty()) {
    out += ",\"scenario\":";
    append_json_bytes(out, header.scenario);
  }
  out += ",\"topology\":";
  append_topology(out, header.topology);
  out += ",\"nodes\":[";
  for (size_t i = 0; i < header.nodes.size(); ++i) {
    const NodeConfig& c = header.nodes[i];
    if (i > 0) out += ',';
    out += "{\"name\":";
    append_json_bytes(out, c.name);
    out += ",\"neighbours\":";
    append_names(out, c.neighbours);
    out += ",\"max_records\":" + std::to_string(c.max_records);
    out += ",\"max_pending_places\":" + std::to_string(c.max_pending_places);
    out += c.places_api == PlacesApi::kNew ? ",\"places_api\":\"new\"}" : ",\"places_api\":\"legacy\"}";
  }
  out += "]}";
  return out;
}

std::string trace_input_line(uint64_t index, const TraceInput& in, std::span<const Effect> outputs,
                             const std::vector<NodeConfig>& nodes) {
  const NodeConfig& node = nodes.at(static_cast<size_t>(in.node));
  std::string out = "{\"i\":" + std::to_string(index) + ",\"t\":[" + std::to_string(in.now.wall_ns) +
                    "," + std::to_string(in.now.mono_ns) + "],\"node\":";
  append_json_bytes(out, node.name);
  out += ",\"in\":\"";
  out += kind_name(in.kind);
  out += '"';
  switch (in.kind) {
    case InputKind::kClientLine:
      out += ",\"conn\":" + std::to_string(in.conn) + ",\"line\":";
      append_json_bytes(out, in.text);
      break;
    case InputKind::kPeerMessage:
      out += ",\"peer\":";
      append_json_bytes(out, node.neighbours.at(static_cast<size_t>(in.peer)));
      out += ",\"msg\":";
      append_json_bytes(out, in.text);
      break;
    case InputKind::kPlacesResult:
      out += ",\"request\":" + std::to_string(in.request);
      out += in.places->transport_ok ? ",\"ok\":true" : ",\"ok\":false";
      out += ",\"status\":" + std::to_string(in.places->http_status) + ",\"body\":";
      append_json_bytes(out, in.places->body);
      out += ",\"failure\":";
      append_json_bytes(out, in.places->failure);
      break;
    case InputKind::kLinkUp:
    case InputKind::kLinkDown:
      out += ",\"peer\":";
      append_json_bytes(out, node.neighbours.at(static_cast<size_t>(in.peer)));
      break;
    case InputKind::kCrash:
    case InputKind::kRestart:
      break;
  }
  out += ",\"out\":\"" + hex16(output_hash(outputs)) + "\",\"n\":" + std::to_string(outputs.size()) + "}";
  return out;
}

std::string trace_end_line(uint64_t inputs, uint64_t digest) {
  return "{\"end\":true,\"inputs\":" + std::to_string(inputs) + ",\"digest\":\"" + hex16(digest) + "\"}";
}

Result<std::unique_ptr<TraceWriter>> TraceWriter::open(const std::string& path, TraceHeader header) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return Error{path + ": cannot write: " + std::strerror(errno)};
  std::unique_ptr<TraceWriter> w(new TraceWriter(file, path, std::move(header)));
  w->write_line(trace_header_line(w->header_));
  if (!w->error_.empty()) return Error{w->error_};
  return w;
}

TraceWriter::TraceWriter(std::FILE* file, std::string path, TraceHeader header)
    : file_(file), path_(std::move(path)), header_(std::move(header)) {
  // A large buffer: a simulated run writes millions of short lines.
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

TraceWriter::~TraceWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void TraceWriter::write_line(const std::string& line) {
  if (file_ == nullptr || !error_.empty()) return;
  if (bytes_ + line.size() + 1 > kBytesMax) {
    error_ = path_ + ": trace larger than " + std::to_string(kBytesMax) + " bytes: stopped";
    return;
  }
  bytes_ += line.size() + 1;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF) {
    error_ = path_ + ": cannot write: " + std::strerror(errno);
  }
}

void TraceWriter::on_input(const TraceInput& input, std::span<const Effect> outputs) {
  if (file_ == nullptr) return;
  write_line(trace_input_line(inputs_++, input, outputs, header_.nodes));
}

void TraceWriter::client_line(int node, ConnId conn, std::string_view line, Now now,
                              std::span<const Effect> out) {
  TraceInput in;
  in.kind = InputKind::kClientLine, in.node = node, in.now = now, in.conn = conn, in.text = line;
  on_input(in, out);
}

void TraceWriter::peer_message(int node, int peer, std::string_view message, Now now,
                               std::span<const Effect> out) {
  TraceInput in;
  in.kind = InputKind::kPeerMessage, in.node = node, in.now = now, in.peer = peer, in.text = message;
  on_input(in, out);
}

void TraceWriter::places_result(int node, RequestId request, const PlacesResult& result, Now now,
                                std::span<const Effect> out) {
  TraceInput in;
  in.kind = InputKind::kPlacesResult, in.node = node, in.now = now, in.request = request;
  in.places = &result;
  on_input(in, out);
}

void TraceWriter::link_up(int node, int peer, Now now, std::span<const Effect> out) {
  TraceInput in;
  in.kind = InputKind::kLinkUp, in.node = node, in.now = now, in.peer = peer;
  on_input(in, out);
}

void TraceWriter::link_down(int node, int peer, Now now, std::span<const Effect> out) {
  TraceInput in;
  in.kind = InputKind::kLinkDown, in.node = node, in.now = now, in.peer = peer;
  on_input(in, out);
}

void TraceWriter::crash(int node, Now now) {
  TraceInput in;
  in.kind = InputKind::kCrash, in.node = node, in.now = now;
  on_input(in, {});
}

void TraceWriter::restart(int node, Now now) {
  TraceInput in;
  in.kind = InputKind::kRestart, in.node = node, in.now = now;
  on_input(in, {});
}

std::string TraceWriter::close(const std::vector<const Node*>& nodes) {
  if (file_ == nullptr) return error_;
  write_line(trace_end_line(inputs_, state_digest(nodes)));
  if (std::fclose(file_) != 0 && error_.empty()) error_ = path_ + ": cannot write: " + std::strerror(errno);
  file_ = nullptr;
  return error_;
}

}  // namespace herd
