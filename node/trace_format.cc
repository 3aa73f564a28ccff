#include "node/trace_format.h"

#include <algorithm>
#include <set>

#include <rapidjson/document.h>

#include "node/json_bytes.h"

namespace herd {
namespace {

using Value = rapidjson::Value;

constexpr size_t kNameBytesMax = 64;
// A node adds durations to times and subtracts times, in int64: a trace (input from
// anywhere) holds times and durations small enough that no sum or difference
// overflows. Hosts stay far inside: 2^62 ns after the epoch is the year 2116, 2^52 ns
// is 52 days (the longest timing a scenario sets is a day), and a scenario's sync
// rate is at most 2^40 bytes per second.
constexpr int64_t kTimeNsMax = int64_t{1} << 62;
constexpr int64_t kDurationNsMax = int64_t{1} << 52;
constexpr uint64_t kSyncRateMax = uint64_t{1} << 40;

const char* kind_name(InputKind kind) {
  switch (kind) {
    case InputKind::kLine: return "line";
    case InputKind::kClosed: return "closed";
    case InputKind::kDialed: return "dialed";
    case InputKind::kBackpressure: return "backpressure";
    case InputKind::kTimer: return "timer";
    case InputKind::kPlacesResult: return "places";
    case InputKind::kCrash: return "crash";
    case InputKind::kStart: return "start";
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

void append_node(std::string& out, const NodeConfig& c) {
  auto num = [&](const char* key, auto v) { out += ",\"" + std::string(key) + "\":" + std::to_string(v); };
  out += "{\"name\":";
  append_json_bytes(out, c.name);
  out += ",\"neighbours\":";
  append_names(out, c.neighbours);
  num("max_records", c.max_records);
  num("max_record_bytes", c.max_record_bytes);
  num("max_clock_skew_ns", c.max_clock_skew_ns);
  num("max_pending_places", c.max_pending_places);
  out += c.places_api == PlacesApi::kNew ? ",\"places_api\":\"new\"" : ",\"places_api\":\"legacy\"";
  num("seed", c.seed);
  out += ",\"link\":{\"backoff_min_ns\":" + std::to_string(c.link.backoff_min_ns);
  num("backoff_max_ns", c.link.backoff_max_ns);
  num("hello_timeout_ns", c.link.hello_timeout_ns);
  num("heartbeat_ns", c.link.heartbeat_ns);
  num("suspect_ns", c.link.suspect_ns);
  num("idle_timeout_ns", c.link.idle_timeout_ns);
  out += "},\"sync\":{\"mode\":\"" + std::string(sync_mode_name(c.sync.mode)) + "\"";
  num("interval_ns", c.sync.interval_ns);
  num("bytes_per_s", c.sync.bytes_per_s);
  num("session_timeout_ns", c.sync.session_timeout_ns);
  num("keys_per_message", c.sync.keys_per_message);
  num("queue_bytes_max", c.sync.queue_bytes_max);
  num("keys_max", c.sync.keys_max);
  out += "}}";
}

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

// A name as the topology parser allows it: one protocol field.
bool is_name(const std::string& s) {
  if (s.empty() || s.size() > kNameBytesMax) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string read_topology(const Value& t, Topology* out) {
  if (!t.IsObject()) return "topology: must be an object";
  out->name = string_of(t, "name").value_or("");
  if (!t.HasMember("nodes") || !t["nodes"].IsArray() || !t.HasMember("links") || !t["links"].IsArray()) {
    return "topology.nodes and topology.links must be arrays";
  }
  if (t["nodes"].Size() > kTraceNodesMax) return "topology.nodes: more than " + std::to_string(kTraceNodesMax);
  for (const Value& n : t["nodes"].GetArray()) {
    auto name = string_of(n, "name");
    auto host = string_of(n, "host");
    auto port = int_of(n, "port");
    if (!name || !host || !port) return "topology.nodes: need name, host, port";
    if (!is_name(*name)) return "topology.nodes: " + json_bytes(*name) + " is not a name";
    if (*port < 0 || *port > 65535) return "topology.nodes: port must be in 0..65535";
    out->nodes.push_back({*name, *host, static_cast<int>(*port)});
  }
  for (const Value& l : t["links"].GetArray()) {
    auto a = l.IsArray() && l.Size() == 2 && l[0].IsString() ? bytes_from_json(l[0].GetString()) : std::nullopt;
    auto b = l.IsArray() && l.Size() == 2 && l[1].IsString() ? bytes_from_json(l[1].GetString()) : std::nullopt;
    if (!a || !b) return "topology.links: need pairs of names";
    out->links.emplace_back(*a, *b);
  }
  return "";
}

std::string read_link(const Value& v, LinkTimings* t) {
  struct Field {
    const char* key;
    int64_t* value;
  };
  if (!v.IsObject()) return "link: must be an object";
  for (Field f : {Field{"backoff_min_ns", &t->backoff_min_ns}, Field{"backoff_max_ns", &t->backoff_max_ns},
                  Field{"hello_timeout_ns", &t->hello_timeout_ns}, Field{"heartbeat_ns", &t->heartbeat_ns},
                  Field{"suspect_ns", &t->suspect_ns}, Field{"idle_timeout_ns", &t->idle_timeout_ns}}) {
    auto n = int_of(v, f.key);
    if (!n || *n < 1 || *n > kDurationNsMax) {
      return std::string("link.") + f.key + ": must be an integer in 1.." + std::to_string(kDurationNsMax);
    }
    *f.value = *n;
  }
  if (t->backoff_min_ns > t->backoff_max_ns) return "link: backoff_min_ns exceeds backoff_max_ns";
  return "";
}

std::string read_sync(const Value& v, SyncConfig* s) {
  if (!v.IsObject()) return "sync: must be an object";
  auto mode = string_of(v, "mode");
  if (!mode || !parse_sync_mode(*mode)) return "sync.mode: must be off, link-up or periodic";
  s->mode = *parse_sync_mode(*mode);
  auto interval = int_of(v, "interval_ns");
  auto timeout = int_of(v, "session_timeout_ns");
  if (!interval || *interval < 1 || *interval > kDurationNsMax || !timeout || *timeout < 1 ||
      *timeout > kDurationNsMax) {
    return "sync: interval_ns and session_timeout_ns must be integers in 1.." + std::to_string(kDurationNsMax);
  }
  s->interval_ns = *interval, s->session_timeout_ns = *timeout;
  struct Field {
    const char* key;
    uint64_t* value;
  };
  for (Field f : {Field{"bytes_per_s", &s->bytes_per_s}, Field{"keys_per_message", &s->keys_per_message},
                  Field{"queue_bytes_max", &s->queue_bytes_max}, Field{"keys_max", &s->keys_max}}) {
    auto n = uint_of(v, f.key);
    if (!n || *n < 1) return std::string("sync.") + f.key + ": must be a positive integer";
    *f.value = *n;
  }
  if (s->bytes_per_s > kSyncRateMax) return "sync.bytes_per_s: must be at most " + std::to_string(kSyncRateMax);
  return "";
}

std::string read_node(const Value& n, NodeConfig* c) {
  auto name = string_of(n, "name");
  auto records = uint_of(n, "max_records");
  auto record_bytes = uint_of(n, "max_record_bytes");
  auto skew = int_of(n, "max_clock_skew_ns");
  auto pending = uint_of(n, "max_pending_places");
  auto api = string_of(n, "places_api");
  auto seed = uint_of(n, "seed");
  if (!name || !records || !record_bytes || !skew || !pending || !api || !seed || !n.HasMember("neighbours") ||
      !n["neighbours"].IsArray() || !n.HasMember("link") || !n.HasMember("sync")) {
    return "need name, neighbours, max_records, max_record_bytes, max_clock_skew_ns, max_pending_places, "
           "places_api, seed, link, sync";
  }
  if (!is_name(*name)) return "name: " + json_bytes(*name) + " is not a name (no white space, 1..64 bytes)";
  if (*skew < 0) return "max_clock_skew_ns: must be an integer >= 0";
  c->name = *name, c->max_records = *records, c->max_pending_places = *pending, c->seed = *seed;
  c->max_record_bytes = *record_bytes, c->max_clock_skew_ns = *skew;
  if (*api != "legacy" && *api != "new") return "places_api: must be legacy or new";
  c->places_api = *api == "new" ? PlacesApi::kNew : PlacesApi::kLegacy;
  for (const Value& peer : n["neighbours"].GetArray()) {
    auto text = peer.IsString() ? bytes_from_json(std::string_view(peer.GetString(), peer.GetStringLength()))
                                : std::nullopt;
    if (!text || !is_name(*text)) return "neighbours: must be names";
    if (*text == c->name) return "neighbours: a node is not its own neighbour";
    if (!c->neighbours.empty() && !(c->neighbours.back() < *text)) return "neighbours: must be sorted and unique";
    c->neighbours.push_back(*text);
  }
  if (std::string e = read_link(n["link"], &c->link); !e.empty()) return e;
  return read_sync(n["sync"], &c->sync);
}

std::string read_header(const Value& h, TraceHeader* out) {
  if (!h.IsObject() || !h.HasMember("herd_trace")) return "not a herd trace (no \"herd_trace\")";
  if (int_of(h, "herd_trace") != kTraceVersion) {
    return "herd_trace version " + std::to_string(int_of(h, "herd_trace").value_or(0)) + ": this herd reads version " +
           std::to_string(kTraceVersion);
  }
  out->source = string_of(h, "source").value_or("");
  if (auto seed = uint_of(h, "seed")) out->seed = *seed;
  out->scenario = string_of(h, "scenario").value_or("");
  out->auth = string_of(h, "auth").value_or("");
  if (!out->auth.empty()) {
    uint8_t id[8];
    if (!bytes_of_hex(out->auth, id, sizeof id)) return "auth: must be a key id (16 hex digits)";
  }
  if (!h.HasMember("topology")) return "topology missing";
  if (std::string e = read_topology(h["topology"], &out->topology); !e.empty()) return e;
  if (!h.HasMember("nodes") || !h["nodes"].IsArray() || h["nodes"].Empty()) return "nodes missing";
  if (h["nodes"].Size() > kTraceNodesMax) return "nodes: more than " + std::to_string(kTraceNodesMax);
  std::set<std::string, std::less<>> names;
  for (rapidjson::SizeType i = 0; i < h["nodes"].Size(); ++i) {
    NodeConfig c;
    if (std::string e = read_node(h["nodes"][i], &c); !e.empty()) return "nodes[" + std::to_string(i) + "]." + e;
    if (!names.insert(c.name).second) return "nodes[" + std::to_string(i) + "].name: duplicate " + json_bytes(c.name);
    out->nodes.push_back(std::move(c));
  }
  for (size_t i = 0; i < out->nodes.size(); ++i) out->index.emplace(out->nodes[i].name, static_cast<int>(i));
  for (size_t i = 0; i < out->nodes.size(); ++i) {
    for (const std::string& peer : out->nodes[i].neighbours) {
      if (names.count(peer) == 0) return "nodes[" + std::to_string(i) + "].neighbours: unknown node " + json_bytes(peer);
    }
  }
  return "";
}

}  // namespace

uint64_t output_hash(std::span<const Effect> outputs) {
  Hasher h;
  h.u64(outputs.size());
  for (const Effect& e : outputs) {
    h.u64(static_cast<uint64_t>(e.kind));
    h.u64(static_cast<uint64_t>(e.traffic));
    h.i64(e.peer);
    h.u64(e.timer);
    h.u64(e.conn);
    h.u64(e.request);
    h.i64(e.at_ns);
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
  std::string out = "{\"herd_trace\":" + std::to_string(kTraceVersion) + ",\"source\":";
  append_json_bytes(out, header.source);
  if (header.seed) out += ",\"seed\":" + std::to_string(*header.seed);
  if (!header.scenario.empty()) {
    out += ",\"scenario\":";
    append_json_bytes(out, header.scenario);
  }
  if (!header.auth.empty()) out += ",\"auth\":\"" + header.auth + "\"";
  out += ",\"topology\":";
  append_topology(out, header.topology);
  out += ",\"nodes\":[";
  for (size_t i = 0; i < header.nodes.size(); ++i) {
    if (i > 0) out += ',';
    append_node(out, header.nodes[i]);
  }
  out += "]}";
  return out;
}

std::string trace_input_line(uint64_t index, int node_index, const Input& in, std::span<const Effect> outputs,
                             const std::vector<NodeConfig>& nodes) {
  const NodeConfig& node = nodes.at(static_cast<size_t>(node_index));
  std::string out = "{\"i\":" + std::to_string(index) + ",\"t\":[" + std::to_string(in.now.wall_ns) + "," +
                    std::to_string(in.now.mono_ns) + "],\"node\":";
  append_json_bytes(out, node.name);
  out += ",\"in\":\"";
  out += kind_name(in.kind);
  out += '"';
  auto conn = [&] { out += ",\"conn\":" + std::to_string(in.conn); };
  auto text = [&] {
    out += ",\"text\":";
    append_json_bytes(out, in.text);
  };
  switch (in.kind) {
    case InputKind::kLine:
      conn();
      if (in.flags != 0) out += ",\"flags\":" + std::to_string(in.flags);
      text();
      break;
    case InputKind::kClosed:
      conn();
      text();
      break;
    case InputKind::kDialed:
      out += ",\"peer\":";
      append_json_bytes(out, node.neighbours.at(static_cast<size_t>(in.peer)));
      out += ",\"attempt\":" + std::to_string(in.request);
      conn();
      text();
      break;
    case InputKind::kBackpressure:
      conn();
      out += in.flags != 0 ? ",\"full\":true" : ",\"full\":false";
      break;
    case InputKind::kTimer:
      out += ",\"timer\":" + std::to_string(in.timer);
      break;
    case InputKind::kPlacesResult:
      out += ",\"request\":" + std::to_string(in.request);
      out += in.places->transport_ok ? ",\"ok\":true" : ",\"ok\":false";
      out += ",\"status\":" + std::to_string(in.places->http_status) + ",\"body\":";
      append_json_bytes(out, in.places->body);
      out += ",\"failure\":";
      append_json_bytes(out, in.places->failure);
      break;
    case InputKind::kCrash:
    case InputKind::kStart:
      break;
  }
  if (in.nonce != AuthNonce{}) out += ",\"nonce\":\"" + hex_of(in.nonce.data(), in.nonce.size()) + "\"";
  out += ",\"out\":\"" + hex16(output_hash(outputs)) + "\",\"n\":" + std::to_string(outputs.size()) + "}";
  return out;
}

std::string trace_end_line(uint64_t inputs, uint64_t digest) {
  return "{\"end\":true,\"inputs\":" + std::to_string(inputs) + ",\"digest\":\"" + hex16(digest) + "\"}";
}

Result<TraceHeader> parse_trace_header(std::string_view line) {
  if (line.size() > kTraceHeaderBytesMax) {
    return Error{"header: longer than " + std::to_string(kTraceHeaderBytesMax) + " bytes"};
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError()) return Error{"header: not JSON"};
  TraceHeader header;
  if (std::string e = read_header(doc, &header); !e.empty()) return Error{"header: " + e};
  return header;
}

namespace {

std::optional<uint64_t> hex_digest(const Value& v, const char* key) {
  auto text = string_of(v, key);
  if (!text || text->size() != 16) return std::nullopt;
  uint64_t out = 0;
  for (char c : *text) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    out = out << 4 | static_cast<uint64_t>(d);
  }
  return out;
}

// The kind-specific fields of an input line; "" or what is missing.
std::string read_input(const Value& v, const NodeConfig& node, TraceRecord* r) {
  Input& in = r->input;
  const std::string& kind = r->kind;
  auto conn = uint_of(v, "conn");
  auto text = string_of(v, "text");
  if (kind == "line" || kind == "closed") {
    if (!conn || !text) return kind + " input needs conn and text";
    in.kind = kind == "line" ? InputKind::kLine : InputKind::kClosed;
    auto flags = uint_of(v, "flags");
    if (flags && *flags > 3) return "line input: flags must be 0..3";
    in.flags = static_cast<uint8_t>(flags.value_or(0));
  } else if (kind == "dialed") {
    auto peer = string_of(v, "peer");
    auto attempt = uint_of(v, "attempt");
    auto it = peer ? std::lower_bound(node.neighbours.begin(), node.neighbours.end(), *peer) : node.neighbours.end();
    if (!peer || !attempt || !conn || !text || it == node.neighbours.end() || *it != *peer) {
      return "dialed input needs a neighbour's name, attempt, conn and text";
    }
    in.kind = InputKind::kDialed, in.peer = static_cast<int>(it - node.neighbours.begin()), in.request = *attempt;
  } else if (kind == "backpressure") {
    if (!conn || !v.HasMember("full") || !v["full"].IsBool()) return "backpressure input needs conn and full";
    in.kind = InputKind::kBackpressure, in.flags = v["full"].GetBool() ? 1 : 0;
  } else if (kind == "timer") {
    auto timer = uint_of(v, "timer");
    if (!timer || *timer > node.neighbours.size()) return "timer input needs a timer of the node";
    in.kind = InputKind::kTimer, in.timer = static_cast<TimerId>(*timer);
  } else if (kind == "places") {
    auto request = uint_of(v, "request");
    auto status = int_of(v, "status");
    auto body = string_of(v, "body");
    auto failure = string_of(v, "failure");
    if (!request || !status || !body || !failure || !v.HasMember("ok") || !v["ok"].IsBool()) {
      return "places input needs request, ok, status, body, failure";
    }
    r->places.transport_ok = v["ok"].GetBool(), r->places.http_status = static_cast<int>(*status);
    r->places.body = std::move(*body), r->places.failure = std::move(*failure);
    in.kind = InputKind::kPlacesResult, in.request = *request, in.places = &r->places;
  } else if (kind == "crash" || kind == "start") {
    in.kind = kind == "crash" ? InputKind::kCrash : InputKind::kStart;
  } else {
    return "unknown input kind " + json_bytes(kind);
  }
  if (conn) in.conn = *conn;
  if (text) {
    r->text = std::move(*text);
    in.text = r->text;
  }
  if (v.HasMember("nonce")) {
    auto nonce = string_of(v, "nonce");
    if (!nonce || !bytes_of_hex(*nonce, in.nonce.data(), in.nonce.size())) return "nonce: must be 32 hex digits";
  }
  return "";
}

}  // namespace

Result<TraceLineKind> parse_trace_line(std::string_view line, const TraceHeader& header, TraceRecord* r,
                                       TraceEnd* end) {
  if (line.size() > kTraceLineBytesMax) return Error{"longer than " + std::to_string(kTraceLineBytesMax) + " bytes"};
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) return Error{"not a JSON object"};
  if (doc.HasMember("end")) {
    // {"end":true,"inputs":K,"digest":D}, nothing else.
    for (const auto& member : doc.GetObject()) {
      const std::string_view key(member.name.GetString(), member.name.GetStringLength());
      if (key != "end" && key != "inputs" && key != "digest") {
        return Error{"end line: unknown key " + json_bytes(key) + " (end, inputs, digest)"};
      }
    }
    if (!doc["end"].IsTrue()) return Error{"end line: \"end\" must be true"};
    auto inputs = uint_of(doc, "inputs");
    if (!inputs) return Error{"end line: \"inputs\" must be an integer >= 0"};
    auto digest = hex_digest(doc, "digest");
    if (!digest) {
      const std::string got = doc.HasMember("digest") && doc["digest"].IsString()
                                  ? ", got " + json_bytes(doc["digest"].GetString())
                                  : "";
      return Error{"end line: \"digest\" must be 16 lowercase hex digits" + got};
    }
    end->inputs = *inputs, end->digest = *digest;
    return TraceLineKind::kEnd;
  }
  auto index = uint_of(doc, "i");
  auto node = string_of(doc, "node");
  auto kind = string_of(doc, "in");
  auto out = hex_digest(doc, "out");
  auto count = uint_of(doc, "n");
  if (!index || !node || !kind || !out || !count || !doc.HasMember("t") || !doc["t"].IsArray() ||
      doc["t"].Size() != 2 || !doc["t"][0].IsInt64() || !doc["t"][1].IsInt64()) {
    return Error{"malformed input line (need i, t, node, in, out, n)"};
  }
  for (const Value& t : doc["t"].GetArray()) {
    if (t.GetInt64() < 0 || t.GetInt64() > kTimeNsMax) {
      return Error{"t: times must be in 0.." + std::to_string(kTimeNsMax) + " ns"};
    }
  }
  auto found = header.index.find(*node);
  if (found == header.index.end()) return Error{"unknown node " + json_bytes(*node)};
  r->node = found->second;
  r->index = *index, r->out_hash = *out, r->out_count = *count, r->kind = std::move(*kind);
  r->input = Input{};
  r->input.now = Now{doc["t"][0].GetInt64(), doc["t"][1].GetInt64()};
  if (std::string e = read_input(doc, header.nodes[static_cast<size_t>(r->node)], r); !e.empty()) return Error{e};
  return TraceLineKind::kInput;
}

}  // namespace herd
