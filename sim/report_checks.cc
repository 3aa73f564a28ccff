// The checks of a run (sim/report.h): the scenario's `expect` keys and max_events.
#include "node/hash.h"
#include "node/json_bytes.h"
#include "sim/report.h"

namespace herd {
namespace {

using u128 = unsigned __int128;

// numerator / denominator with `decimals` digits, rounded down (up when `up`):
// towards failing, for a min (down) or a max (up) check.
std::string ratio_towards(uint64_t numerator, uint64_t denominator, int decimals, bool up) {
  if (denominator == 0) return fixed_point(0, decimals);
  u128 scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  const u128 scaled = static_cast<u128>(numerator) * scale;
  const u128 q = scaled / denominator + (up && scaled % denominator != 0 ? 1 : 0);
  return fixed_point(static_cast<int64_t>(q), decimals);
}

// Nanoseconds as milliseconds with three decimals, rounded up.
std::string ms3_up(int64_t ns) {
  return ratio_towards(static_cast<uint64_t>(ns < 0 ? 0 : ns), 1'000'000, 3, true);
}

Check min_check(std::string name, uint64_t part, uint64_t whole, uint64_t min_ppm, const std::string& what) {
  Check c;
  c.name = std::move(name);
  c.figure = ratio_towards(part, whole, 6, false);
  c.bound = fixed_point(static_cast<int64_t>(min_ppm), 6);
  c.pass = static_cast<u128>(part) * 1'000'000 >= static_cast<u128>(min_ppm) * whole;
  if (!c.pass) {
    c.failure = what + " " + std::to_string(part) + " of " + std::to_string(whole) + " updates (" + c.figure +
                "), below " + c.name + " " + c.bound;
  }
  return c;
}

}  // namespace

bool Report::passed() const {
  for (const Check& check : checks) {
    if (!check.pass) return false;
  }
  return true;
}

std::vector<Check> expectation_checks(const Report& r, const Expect& x) {
  std::vector<Check> out;
  if (x.converged_min_ppm) {
    out.push_back(min_check("converged_min", r.converged, r.updates, *x.converged_min_ppm, "converged"));
    if (!out.back().pass && r.superseded > 0) {
      out.back().failure += " (" + std::to_string(r.superseded) +
                            " more were superseded: converged_or_superseded_min counts those)";
    }
  }
  if (x.converged_or_superseded_min_ppm) {
    out.push_back(min_check("converged_or_superseded_min", r.converged + r.superseded, r.updates,
                            *x.converged_or_superseded_min_ppm, "converged or superseded"));
  }
  if (x.residue_max_ppm) {
    Check c{"residue_max", ratio_towards(r.residue_stale, r.residue_pairs, 6, true),
            fixed_point(static_cast<int64_t>(*x.residue_max_ppm), 6),
            static_cast<u128>(r.residue_stale) * 1'000'000 <= static_cast<u128>(*x.residue_max_ppm) * r.residue_pairs,
            ""};
    if (!c.pass) c.failure = "residue " + c.figure + " above residue_max " + c.bound;
    out.push_back(std::move(c));
  }
  if (x.latency_max_ns) {
    Check c{"latency_max_ms", ms3_up(r.latency_max_ns), ms3(*x.latency_max_ns),
            r.latency_max_ns <= *x.latency_max_ns, ""};
    if (!c.pass) c.failure = "latency max " + c.figure + " ms above latency_max_ms " + c.bound;
    out.push_back(std::move(c));
  }
  if (x.msgs_per_update_max_milli) {
    Check c{"msgs_per_update_max", ratio_towards(r.sends, r.updates, 3, true),
            fixed_point(static_cast<int64_t>(*x.msgs_per_update_max_milli), 3),
            static_cast<u128>(r.sends) * 1000 <= static_cast<u128>(*x.msgs_per_update_max_milli) * r.updates, ""};
    if (!c.pass) c.failure = "msgs_per_update " + c.figure + " above msgs_per_update_max " + c.bound;
    out.push_back(std::move(c));
  }
  return out;
}

Check max_events_check(const Report& r, uint64_t max_events, bool cut_short, int64_t end_ns) {
  Check c{"max_events", std::to_string(r.events), std::to_string(max_events), !cut_short, ""};
  if (cut_short) {
    c.failure = "the run was cut short at max_events " + std::to_string(max_events) + " (sim time " +
                ms3(r.sim_ns) + " of " + ms3(end_ns) +
                " ms), so its figures cover only part of it; raise max_events or shorten the run";
  }
  return c;
}

std::string failure_text(const Report& r, const std::string& scenario_path) {
  std::string out;
  for (const Check& check : r.checks) {
    if (!check.pass) out += "herd sim: check failed: " + check.failure + "\n";
  }
  out += "herd sim: seed " + std::to_string(r.seed) + "; replay with: herd sim " + scenario_path + " --seed " +
         std::to_string(r.seed) + "\n";
  return out;
}

}  // namespace herd
