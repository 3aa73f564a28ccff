// Fuzz target: client lines fed to a started node whose links are up (Riley of the
// spring-2021 herd, as tests/unit/node_harness.h drives it), with the Places answers
// its WHATSATs wait for. Input: a configuration byte (Places API, small record and
// Places limits), then lines, one client connection's, as the framer delivers them.
// A line that begins with byte 0x01 is no client's: it answers the oldest pending
// Places request (its next byte says how: a transport failure, HTTP 200 or another
// status, or an answer to a request nobody made; the rest is the body or the failure).
//
// Checks what PROTOCOL.md promises a client: a blank line gets no reply and any other
// exactly one (a WHATSAT's when Places answers; the rest are answered at the end), on
// its connection; every reply ends with '\n'; "? " replies echo the line; an AT reply
// starts with an AT line that parses; a WHATSAT's body holds no empty line and the
// reply ends with one. And what neighbours are promised: each stored record floods
// once to each as one line, "FLOOD 1 <its AT line>".
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "node/peer_wire.h"
#include "node/protocol.h"
#include "node/record.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/unit/node_harness.h"

namespace herd::fuzz {
namespace {

constexpr ConnId kClient = 7;
constexpr int64_t kT0 = 1621464827959498503LL;
constexpr char kPlacesAnswer = '\x01';

NodeConfig riley(uint8_t config) {
  NodeConfig c;
  c.name = "Riley";
  c.neighbours = {"Jaquez", "Juzang"};
  c.places_api = (config & 1) ? PlacesApi::kNew : PlacesApi::kLegacy;
  c.max_records = (config & 2) ? 2 : 1000;
  c.max_pending_places = (config & 4) ? 2 : 100;
  c.sync.mode = SyncMode::kOff;
  return c;
}

class ClientCheck {
 public:
  explicit ClientCheck(uint8_t config) : node_(riley(config)) { node_.start_linked(kT0); }

  void client_line(std::string_view line) {
    const size_t index = lines_.size();
    lines_.emplace_back(line);
    replies_.push_back(0);
    now_ += 1'234'567;
    const Effects out = node_.line(kClient, line, now_, index == 0 ? kFirstLine : 0);
    const bool blank = is_blank(line);
    size_t answers = 0;
    int floods_to = 0;  // A bit per neighbour.
    for (const Effect& e : out) {
      if (e.kind == EffectKind::kPlacesRequest) {
        FUZZ_CHECK(e.conn == kClient && e.query.bound >= 1 && e.query.bound <= 20 && e.query.radius_m >= 1 &&
                       e.query.radius_m <= 50'000 && !e.query.lat.empty() && !e.query.lng.empty(),
                   "a bad Places request");
        pending_.push_back(e.request);
        line_of_[e.request] = index;
        ++answers;
      } else if (e.kind == EffectKind::kReply) {
        FUZZ_CHECK(e.request == 0, "an immediate reply numbered as a Places answer");
        reply(index, e);
        ++answers;
      } else if (e.kind == EffectKind::kSend) {
        check_flood(e);
        FUZZ_CHECK((floods_to & (1 << e.peer)) == 0, "a record flooded twice to a neighbour");
        floods_to |= 1 << e.peer;
      }
      FUZZ_CHECK(e.kind != EffectKind::kClose && e.kind != EffectKind::kAdopt, "a client line closed or adopted");
    }
    FUZZ_CHECK(answers == (blank ? 0u : 1u), std::to_string(answers) + " answers to " + shown(line));
    FUZZ_CHECK(floods_to == 0 || floods_to == 3, "a stored record not flooded to every neighbour");
  }

  // 0x01, how, then the body or the failure.
  void places_answer(std::string_view text) {
    const uint8_t how = text.size() > 1 ? static_cast<uint8_t>(text[1]) : 0;
    const std::string rest(text.size() > 2 ? text.substr(2) : std::string_view());
    PlacesResult r;
    r.transport_ok = how % 4 != 0;
    r.http_status = how % 4 == 3 ? static_cast<int>(how) : 200;
    (r.transport_ok ? r.body : r.failure) = rest;
    if (how % 8 == 5) return answer(999'999'999, r);  // No request of that number.
    if (pending_.empty()) return;
    const RequestId request = pending_.front();
    pending_.pop_front();
    answer(request, r);
  }

  // Every request still pending gets an answer; then every line has had its reply.
  void finish() {
    PlacesResult ok;
    ok.transport_ok = true;
    ok.http_status = 200;
    ok.body = R"({"html_attributions": [], "results": [], "status": "ZERO_RESULTS"})";
    while (!pending_.empty()) {
      const RequestId request = pending_.front();
      pending_.pop_front();
      answer(request, ok);
    }
    for (size_t i = 0; i < lines_.size(); ++i) {
      FUZZ_CHECK(replies_[i] == (is_blank(lines_[i]) ? 0u : 1u),
                 std::to_string(replies_[i]) + " replies to " + shown(lines_[i]));
    }
  }

  // The first line was a neighbour's hello: the connection is a link, not a client's.
  bool first_line_adopts(std::string_view line) const {
    std::optional<PeerHello> hello = parse_peer_hello(line);
    return hello && hello->to == "Riley" && node_.node().peer_index(hello->from) >= 0;
  }

 private:
  void answer(RequestId request, const PlacesResult& r) {
    now_ += 1'000'000;
    const Effects out = node_.places(request, r, now_);
    auto it = line_of_.find(request);
    if (it == line_of_.end()) {
      FUZZ_CHECK(out.empty(), "effects for an answer nobody asked for");
      return;
    }
    FUZZ_CHECK(out.size() == 1 && out[0].kind == EffectKind::kReply && out[0].request == request,
               "a Places answer must give exactly its reply");
    reply(it->second, out[0]);
    line_of_.erase(it);
  }

  void reply(size_t index, const Effect& e) {
    const std::string& line = lines_[index];
    const std::string& bytes = e.bytes;
    ++replies_[index];
    FUZZ_CHECK(e.conn == kClient, "a reply on another connection");
    FUZZ_CHECK(!bytes.empty() && bytes.back() == '\n', "a reply without its newline: " + shown(bytes));
    if (bytes.starts_with("? ")) {
      FUZZ_CHECK(bytes == "? " + line + "\n", "a '?' reply that does not echo its line: " + shown(bytes));
      return;
    }
    const size_t first_end = bytes.find('\n');
    FUZZ_CHECK(parse_at_line(std::string_view(bytes).substr(0, first_end)).has_value(),
               "a reply whose first line is no AT line: " + shown(bytes));
    if (first_end + 1 == bytes.size()) return;  // An IAMAT's.
    // A WHATSAT's: AT line, body, empty line; the body holds none.
    FUZZ_CHECK(bytes.ends_with("\n\n"), "a WHATSAT reply without its empty line: " + shown(bytes));
    FUZZ_CHECK(bytes.find("\n\n") == bytes.size() - 2, "an empty line inside a WHATSAT reply: " + shown(bytes));
  }

  void check_flood(const Effect& e) {
    std::optional<Flood> flood = parse_flood(e.bytes);
    FUZZ_CHECK(flood && flood->hops == 1 && parse_at_line(flood->at_line), "a bad flood: " + shown(e.bytes));
    FUZZ_CHECK(e.bytes.find('\n') == std::string::npos, "a flood that is not one line");
    FUZZ_CHECK(e.conn == node_.conn_of(e.peer), "a flood on a connection that is not its link");
    const Record* stored = node_.node().records().find(parse_at_line(flood->at_line)->client);
    FUZZ_CHECK(stored != nullptr && stored->at_line() == flood->at_line, "a flood of a record not stored");
  }

  test::TestNode node_;
  int64_t now_ = kT0;
  std::vector<std::string> lines_;
  std::vector<unsigned> replies_;
  std::deque<RequestId> pending_;
  std::map<RequestId, size_t> line_of_;
};

}  // namespace
}  // namespace herd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herd::fuzz;
  Bytes in(data, size);
  ClientCheck check(in.take());
  const std::vector<std::string_view> lines = lines_of(in.rest());
  // A connection that opens with a neighbour's hello is that neighbour's link: the
  // peer target's business.
  if (!lines.empty() && check.first_line_adopts(lines[0])) return 0;
  for (std::string_view line : lines) {
    if (!line.empty() && line[0] == kPlacesAnswer) {
      check.places_answer(line);
    } else {
      check.client_line(line);
    }
  }
  check.finish();
  return 0;
}
