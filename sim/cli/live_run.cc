#include "sim/cli/live_run.h"

#include "crypto/sodium_mac.h"

#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "net/live_clock.h"
#include "net/uv_timer.h"
#include "node/rng.h"
#include "node/trace_format.h"
#include "sim/cli/live_clients.h"
#include "sim/cli/report_cli.h"
#include "sim/html_report.h"
#include "sim/trace.h"
#include "sim/report.h"
#include "sim/run_metrics.h"
#include "sim/workload.h"

namespace herd {
namespace {

constexpr int64_t kPollMs = 50;
constexpr int64_t kIdleNs = 500'000'000;  // Nothing stored this long: the herd is idle.

uint64_t nth_sub_seed(uint64_t seed, int n) {
  Rng rng(seed);
  uint64_t out = 0;
  for (int i = 0; i <= n; ++i) out = rng.draw_seed();
  return out;
}

uint64_t ms_until(int64_t at_ns, int64_t now_ns) {
  return at_ns <= now_ns ? 0 : static_cast<uint64_t>((at_ns - now_ns + kNsPerMs - 1) / kNsPerMs);
}

class LiveRun {
 public:
  LiveRun(uv_loop_t* loop, const Scenario& s, const LiveRunOptions& o, HostOptions host)
      : loop_(loop),
        s_(s),
        seed_(o.seed),
        host_(loop, s.topology, names_of(s.topology), std::move(host)),
        metrics_(static_cast<int>(s.topology.nodes.size()), static_cast<uint32_t>(s.workload.clients),
                 [this](std::string_view client) {
                   auto it = client_index_.find(std::string(client));
                   return it == client_index_.end() ? kNoUpdate : it->second;
                 }),
        workload_(s.workload, static_cast<int>(s.topology.nodes.size()), nth_sub_seed(o.seed, 1),
                  read_live_clock().wall_ns),
        clients_(loop) {
    for (uint32_t c = 0; c < workload_.clients(); ++c) client_index_.emplace(workload_.client_name(c), c);
    for (const auto& server : host_.servers()) server->add_observer(&metrics_);
  }

  static std::vector<std::string> names_of(const Topology& t) {
    std::vector<std::string> names;
    for (const TopologyNode& n : t.nodes) names.push_back(n.name);
    return names;
  }

  Result<bool> start() {
    Result<bool> started = host_.start();
    if (!started.ok()) return started;
    begin();  // The scenario's clock starts with the servers, as in the simulator.
    return true;
  }

  void on_fault(const FaultAction& action) {
    const ActionKind kind = action.kind;
    if (kind == ActionKind::kHeal || kind == ActionKind::kHealAll || kind == ActionKind::kRestart ||
        kind == ActionKind::kResume) {
      ++heals_;
    }
    metrics_.fault_at(read_live_clock().mono_ns);
  }

  bool done() const { return done_; }
  Report report() const;
  HerdHost& host() { return host_; }

 private:
  int64_t vt() const { return read_live_clock().mono_ns - t0_; }
  void begin();
  void start_workload();
  void arm(std::unique_ptr<Timer>& timer, int64_t at_vt, void (LiveRun::*fire)());
  void iamat_tick();
  void whatsat_tick();
  void sample_tick();
  void liveness_tick();
  void poll();
  bool idle();
  void finish();
  void command(int server, std::string line, uint64_t* counter);

  uv_loop_t* loop_;
  const Scenario& s_;
  uint64_t seed_;
  HerdHost host_;
  RunMetrics metrics_;
  ClientWorkload workload_;
  LiveClients clients_;
  std::unordered_map<std::string, uint32_t> client_index_;
  std::unique_ptr<Timer> iamat_timer_, whatsat_timer_, sample_timer_, liveness_timer_, poll_timer_;
  int64_t t0_ = 0;
  int64_t next_iamat_ = 0, next_whatsat_ = 0, next_sample_ = 0, sample_every_ = 0;
  int64_t liveness_at_ = INT64_MAX, end_vt_ = 0;
  uint64_t stores_seen_ = 0;
  int64_t last_store_vt_ = 0;
  bool liveness_done_ = false;
  uint64_t liveness_stale_ = 0;
  std::string liveness_behind_;
  uint64_t iamats_ = 0, whatsats_ = 0, replies_ = 0, invalid_ = 0, refused_ = 0, unanswered_ = 0, heals_ = 0;
  bool done_ = false;
};

void LiveRun::arm(std::unique_ptr<Timer>& timer, int64_t at_vt, void (LiveRun::*fire)()) {
  if (!timer) timer = std::make_unique<Timer>(loop_, [this, fire] { (this->*fire)(); });
  timer->start(ms_until(at_vt, vt()));
}

void LiveRun::begin() {
  t0_ = read_live_clock().mono_ns;
  int64_t last_fault = 0;
  for (const TimelineEvent& e : s_.plan.timeline) last_fault = std::max(last_fault, e.at_ms * kNsPerMs);
  if (s_.expect.converge_after_faults_ns) {
    liveness_at_ = std::max(last_fault, s_.duration_ns) + *s_.expect.converge_after_faults_ns;
    arm(liveness_timer_, liveness_at_, &LiveRun::liveness_tick);
  }
  end_vt_ = s_.duration_ns + s_.drain_ns;
  sample_every_ = std::max<int64_t>(kNsPerMs, s_.duration_ns / 100);
  sample_tick();
  arm(poll_timer_, s_.duration_ns, &LiveRun::poll);
  // As in the simulator, clients start once the links are up (or after the wait).
  host_.when_ready([this](bool) { start_workload(); });
}

void LiveRun::start_workload() {
  const int64_t now = vt();
  next_iamat_ = workload_.next_iamat_ns(now);
  if (next_iamat_ < s_.duration_ns) arm(iamat_timer_, next_iamat_, &LiveRun::iamat_tick);
  next_whatsat_ = workload_.next_whatsat_ns(now);
  if (next_whatsat_ < s_.duration_ns) arm(whatsat_timer_, next_whatsat_, &LiveRun::whatsat_tick);
}

void LiveRun::command(int server, std::string line, uint64_t* counter) {
  ++*counter;
  const int port = host_.servers()[static_cast<size_t>(server)]->port();
  clients_.send(port, std::move(line), [this](bool connected, const std::string& reply) {
    if (!connected) {
      ++refused_;
    } else if (reply.empty()) {
      ++unanswered_;
    } else {
      ++replies_;
      if (reply.starts_with("? ")) ++invalid_;
    }
  });
}

// Commands are made at the times the workload planned (not when the timer fired), so
// the same seed draws the same commands as in the simulator.
void LiveRun::iamat_tick() {
  if (done_) return;
  ClientCommand cmd = workload_.iamat(next_iamat_);
  command(cmd.server, std::move(cmd.line), &iamats_);
  next_iamat_ = workload_.next_iamat_ns(next_iamat_);
  if (next_iamat_ < s_.duration_ns) arm(iamat_timer_, next_iamat_, &LiveRun::iamat_tick);
}

void LiveRun::whatsat_tick() {
  if (done_) return;
  ClientCommand cmd;
  if (workload_.whatsat(next_whatsat_, &cmd)) command(cmd.server, std::move(cmd.line), &whatsats_);
  next_whatsat_ = workload_.next_whatsat_ns(next_whatsat_);
  if (next_whatsat_ < s_.duration_ns) arm(whatsat_timer_, next_whatsat_, &LiveRun::whatsat_tick);
}

void LiveRun::sample_tick() {
  if (done_) return;
  metrics_.sample(read_live_clock().mono_ns);
  next_sample_ += sample_every_;
  arm(sample_timer_, next_sample_, &LiveRun::sample_tick);
}

void LiveRun::liveness_tick() {
  if (liveness_done_) return;
  liveness_done_ = true;
  liveness_stale_ = metrics_.stale_pairs();
  if (liveness_stale_ == 0) return;
  std::vector<std::string> clients;
  for (uint32_t c = 0; c < workload_.clients(); ++c) clients.push_back(workload_.client_name(c));
  liveness_behind_ = metrics_.first_behind(names_of(s_.topology), clients);
}

// Idle: no command out, every link between running servers up and not syncing,
// nothing stored for a while; with periodic sync, nothing stale either.
bool LiveRun::idle() {
  uint64_t stores = 0;
  for (const auto& server : host_.servers()) stores += server->node().counters().stores;
  if (stores != stores_seen_) {
    stores_seen_ = stores;
    last_store_vt_ = vt();
  }
  if (clients_.in_flight() > 0 || vt() - last_store_vt_ < kIdleNs) return false;
  for (const auto& server : host_.servers()) {
    if (server->crashed() || server->paused()) {
      if (server->paused()) return false;
      continue;
    }
    const Node& node = server->node();
    for (size_t p = 0; p < node.config().neighbours.size(); ++p) {
      const ServerHost* peer = host_.server(node.config().neighbours[p]);
      if (peer != nullptr && peer->crashed()) continue;
      if (!node.link(static_cast<int>(p)).up() || node.sync_active(static_cast<int>(p))) return false;
    }
  }
  return s_.sync.mode != SyncMode::kPeriodic || metrics_.stale_pairs() == 0;
}

void LiveRun::poll() {
  if (done_) return;
  const bool liveness_waits = liveness_at_ != INT64_MAX && !liveness_done_ && vt() < liveness_at_;
  if (vt() >= end_vt_ || (idle() && !liveness_waits)) return finish();
  arm(poll_timer_, vt() + kPollMs * kNsPerMs, &LiveRun::poll);
}

void LiveRun::finish() {
  if (liveness_at_ != INT64_MAX && !liveness_done_) liveness_tick();  // Idle: its state is final.
  metrics_.sample(read_live_clock().mono_ns);
  done_ = true;
  for (auto* timer : {&iamat_timer_, &whatsat_timer_, &sample_timer_, &liveness_timer_, &poll_timer_}) {
    if (*timer) (*timer)->close();
  }
  end_vt_ = vt();
  host_.stop("scenario done");
}

Report LiveRun::report() const {
  Report r;
  r.host = "live";
  r.scenario = s_.name;
  r.topology = s_.topology.name;
  r.seed = seed_;
  r.servers = static_cast<int>(s_.topology.nodes.size());
  r.links = static_cast<int>(s_.topology.links.size());
  std::vector<const Node*> nodes;
  for (const auto& server : host_.servers()) nodes.push_back(&server->node());
  fill_report(metrics_, workload_.clients(), nodes, &r, t0_);
  add_bounds(s_.topology, metrics_.tracker(), &r);
  std::vector<std::string> clients;
  for (uint32_t c = 0; c < workload_.clients(); ++c) clients.push_back(workload_.client_name(c));
  r.first_behind = metrics_.first_behind(names_of(s_.topology), clients);
  r.digest = state_digest(nodes);
  r.events = metrics_.inputs();
  r.deliveries = metrics_.deliveries();
  if (const LiveFaults* faults = host_.faults()) add_fault_counters(faults->state(), &r);
  r.heals = heals_;
  r.liveness_checked = liveness_done_;
  r.liveness_at_ns = liveness_at_ == INT64_MAX ? 0 : liveness_at_;
  r.liveness_stale = liveness_stale_;
  r.liveness_behind = liveness_behind_;
  r.iamats = iamats_, r.whatsats = whatsats_, r.replies = replies_, r.invalid = invalid_;
  r.refused = refused_, r.lost = unanswered_;
  r.sim_ns = end_vt_;
  r.wall_ns = end_vt_;
  for (Check& check : expectation_checks(r, s_.expect)) r.checks.push_back(std::move(check));
  for (Check& check : safety_checks(r)) r.checks.push_back(std::move(check));
  return r;
}

}  // namespace

int run_live_scenario(const Scenario& scenario, LiveRunOptions options) {
  HostOptions host = options.host;
  FaultSetup faults;
  faults.seed = options.seed;
  faults.plan = scenario.plan;
  faults.report = [](std::string_view text) { std::fprintf(stderr, "herd run: %.*s\n", static_cast<int>(text.size()), text.data()); };
  host.seed = options.seed;
  host.sync = scenario.sync;
  host.link = scenario.link;
  host.link_queue_bytes = scenario.link_queue_bytes;
  host.stdin_console = false;
  const std::optional<AuthKey> host_key = host.herd_key;
  host.timeline_from_start = true;  // As in the simulator: time 0 is the servers' start.
  if (host.port_base < 0) host.port_base = 0;
  if (host.places.url.empty()) host.places.url = "http://127.0.0.1:1/maps/api/place/nearbysearch/json";
  std::FILE* out = stdout;
  if (!options.output.empty()) {
    out = std::fopen(options.output.c_str(), "w");
    if (out == nullptr) {
      std::fprintf(stderr, "herd: --output %s: %s\n", options.output.c_str(), std::strerror(errno));
      return 2;
    }
  }
  HtmlOut html_out;
  if (!options.html.empty()) {
    if (Result<bool> opened = html_out.open(options.html); !opened.ok()) {
      std::fprintf(stderr, "herd: %s\n", opened.error().c_str());
      if (out != stdout) std::fclose(out);
      return 2;
    }
  }
  std::vector<std::string> html_servers;
  std::vector<std::pair<int, int>> html_links;
  for (const TopologyNode& n : scenario.topology.nodes) html_servers.push_back(n.name);
  for (const auto& [a, b] : scenario.topology.links) {
    html_links.push_back({scenario.topology.index_of(a), scenario.topology.index_of(b)});
  }
  HtmlRun html_run(html_servers, html_links);
  HtmlCollector html_collector(&html_run);
  uv_loop_t loop;
  uv_loop_init(&loop);
  int status = 0;
  {
    LiveRun* run_ptr = nullptr;
    faults.applied = [&run_ptr](const FaultAction& action) {
      if (run_ptr != nullptr) run_ptr->on_fault(action);
    };
    host.faults = std::move(faults);
    LiveRun run(&loop, scenario, options, std::move(host));
    run_ptr = &run;
    std::unique_ptr<TraceWriter> trace;
    if (!options.record.empty()) {
      TraceHeader header;
      header.source = "live";
      header.seed = options.seed;
      if (host_key) header.auth = key_id(*host_key);
      header.scenario = options.scenario_path;
      header.topology = scenario.topology;
      for (const auto& server : run.host().servers()) header.nodes.push_back(server->node().config());
      Result<std::unique_ptr<TraceWriter>> opened = TraceWriter::open(options.record, std::move(header));
      if (!opened.ok()) {
        std::fprintf(stderr, "herd: --record: %s\n", opened.error().c_str());
        run.host().stop("start-failed");
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return 2;
      }
      trace = std::move(opened.value());
      for (const auto& server : run.host().servers()) server->add_observer(trace.get());
    }
    if (html_out.is_open()) {
      for (const auto& server : run.host().servers()) server->add_observer(&html_collector);
    }
    Result<bool> started = run.start();
    if (!started.ok()) {
      std::fprintf(stderr, "herd: %s\n", started.error().c_str());
      run.host().stop("start-failed");
      status = 1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (trace) {
      std::vector<const Node*> nodes;
      for (const auto& server : run.host().servers()) nodes.push_back(&server->node());
      if (const std::string error = trace->close(nodes); !error.empty()) {
        std::fprintf(stderr, "herd: --record: %s\n", error.c_str());
        status = 1;
      }
    }
    if (status == 0) {
      const Report r = run.report();
      const std::string text = options.json ? report_json(r) + "\n" : report_text(r);
      std::fputs(text.c_str(), out);
      std::fflush(out);
      if (html_out.is_open()) {
        add_timeline(&html_run, scenario.plan, html_run.first_ns());
        HtmlMeta meta;
        meta.title = scenario.name + " (live, seed " + std::to_string(options.seed) + ")";
        meta.source = "herd run --scenario " + options.scenario_path + " (live, on loopback)";
        meta.rerun = "herd run --scenario " + options.scenario_path + " --seed " + std::to_string(options.seed);
        if (const std::string error = html_out.write(render_run_html(html_run, r, meta)); !error.empty()) {
          std::fprintf(stderr, "herd: %s\n", error.c_str());
          status = 1;
        }
      }
      if (!r.passed()) {
        std::fputs(failure_text(r, options.scenario_path).c_str(), stderr);
        status = 1;
      }
    }
  }
  if (out != stdout) std::fclose(out);
  uv_loop_close(&loop);
  return status;
}

}  // namespace herd
