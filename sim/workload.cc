#include "sim/workload.h"

#include <algorithm>

#include "node/json_bytes.h"

namespace herd {
namespace {

// Clients start around UCLA and stay within Places' valid range however they move.
constexpr int64_t kHomeLatU = 34'068930, kHomeLngU = -118'445127;
constexpr int64_t kSpreadU = 500'000;    // +-0.5 degree.
constexpr int64_t kStepU = 2'000;        // A move of up to 0.002 degree per IAMAT.

std::string signed_degrees(int64_t micro) {
  std::string text = fixed_point(micro, 6);
  return micro < 0 ? text : "+" + text;
}

int64_t skew(Rng& rng, int64_t max_ns) {
  return max_ns == 0 ? 0 : rng.uniform_i64(-max_ns, max_ns);
}

}  // namespace

std::string location_text(int64_t lat_u, int64_t lng_u) {
  return signed_degrees(lat_u) + signed_degrees(lng_u);
}

std::string time_text(int64_t ns) { return fixed_point(ns, 9); }

ClientWorkload::ClientWorkload(const Workload& workload, int servers, uint64_t seed, int64_t wall_base_ns)
    : w_(workload),
      servers_(servers),
      wall_base_ns_(wall_base_ns),
      iamat_times_(derive(seed, "iamat-times")),
      iamat_choice_(derive(seed, "iamat-choice")),
      whatsat_times_(derive(seed, "whatsat-times")),
      whatsat_choice_(derive(seed, "whatsat-choice")) {
  Rng setup = derive(seed, "clients");
  const size_t n = static_cast<size_t>(w_.clients);
  const size_t width = std::max<size_t>(4, std::to_string(n - 1).size());
  clients_.resize(n);
  names_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string digits = std::to_string(i);
    names_.push_back("c" + std::string(width - digits.size(), '0') + digits);
    clients_[i].skew_ns = skew(setup, w_.client_skew_ns);
    clients_[i].lat_u = kHomeLatU + setup.uniform_i64(-kSpreadU, kSpreadU);
    clients_[i].lng_u = kHomeLngU + setup.uniform_i64(-kSpreadU, kSpreadU);
  }
  Rng servers_rng = derive(seed, "servers");
  for (int s = 0; s < servers; ++s) server_skew_ns_.push_back(skew(servers_rng, w_.server_skew_ns));
}

// A Poisson process with a piecewise constant rate: at a rate change the wait
// starts afresh, which is exact because the exponential has no memory.
int64_t ClientWorkload::next_arrival(int64_t now_ns, int64_t base_interval_ns, bool bursts, Rng& rng) {
  int64_t t = now_ns;
  for (;;) {
    int64_t interval = base_interval_ns;
    int64_t segment_end = INT64_MAX;
    if (bursts) {
      for (const Burst& b : w_.bursts) {
        if (t < b.at_ns) {
          segment_end = b.at_ns;
          break;
        }
        if (t < b.at_ns + b.duration_ns) {
          interval = b.iamat_interval_ns;
          segment_end = b.at_ns + b.duration_ns;
          break;
        }
      }
    }
    if (interval == 0) {
      if (segment_end == INT64_MAX) return INT64_MAX;
      t = segment_end;
      continue;
    }
    const int64_t gap = std::max<int64_t>(1, rng.exponential(interval));
    if (segment_end == INT64_MAX || t + gap < segment_end) return t + gap;
    t = segment_end;
  }
}

int64_t ClientWorkload::next_iamat_ns(int64_t now_ns) {
  return next_arrival(now_ns, w_.iamat_interval_ns, true, iamat_times_);
}

int64_t ClientWorkload::next_whatsat_ns(int64_t now_ns) {
  return next_arrival(now_ns, w_.whatsat_interval_ns, false, whatsat_times_);
}

ClientCommand ClientWorkload::iamat(int64_t now_ns) {
  ClientCommand cmd;
  cmd.client = static_cast<uint32_t>(iamat_choice_.uniform_u64(0, clients_.size() - 1));
  if (w_.fresh_clients && reported_.size() < clients_.size()) cmd.client = static_cast<uint32_t>(reported_.size());
  cmd.server = static_cast<int>(iamat_choice_.uniform_u64(0, static_cast<uint64_t>(servers_ - 1)));
  Client& c = clients_[cmd.client];
  if (w_.moving) {
    c.lat_u = std::clamp(c.lat_u + iamat_choice_.uniform_i64(-kStepU, kStepU), int64_t{-89'000'000}, int64_t{89'000'000});
    c.lng_u = std::clamp(c.lng_u + iamat_choice_.uniform_i64(-kStepU, kStepU), int64_t{-179'000'000}, int64_t{179'000'000});
  }
  // Strictly increasing on the client's clock, even for two reports in one ns.
  const int64_t time_ns = std::max(wall_base_ns_ + now_ns + c.skew_ns, c.last_time_ns + 1);
  c.last_time_ns = time_ns;
  if (!c.reported) {
    c.reported = true;
    reported_.push_back(cmd.client);
  }
  cmd.line = "IAMAT " + names_[cmd.client] + " " + location_text(c.lat_u, c.lng_u) + " " + time_text(time_ns);
  return cmd;
}

bool ClientWorkload::whatsat(int64_t, ClientCommand* out) {
  // Draws the same numbers whether or not anyone has reported yet.
  const uint64_t pick = whatsat_choice_.next_u64();
  const int server = static_cast<int>(whatsat_choice_.uniform_u64(0, static_cast<uint64_t>(servers_ - 1)));
  const int64_t radius_km = whatsat_choice_.uniform_i64(1, 50);
  const int64_t bound = whatsat_choice_.uniform_i64(1, 20);
  if (reported_.empty()) return false;
  // Multiply-shift: uniform up to a bias of size / 2^64.
  out->client = reported_[static_cast<size_t>((static_cast<unsigned __int128>(pick) * reported_.size()) >> 64)];
  out->server = server;
  out->line = "WHATSAT " + names_[out->client] + " " + std::to_string(radius_km) + " " + std::to_string(bound);
  return true;
}

}  // namespace herd
