// A small, fast, seeded pseudo-random generator and our own integer-based
// distributions (DESIGN.md, determinism rules). Everything here is a function of the
// seed and of the sequence of calls: no clock, no global state, and no
// std::*_distribution (whose output differs between standard libraries). The same
// seed gives the same numbers on every compiler and machine.
//
// Generator: xoshiro256** (Blackman & Vigna), its 256-bit state filled by splitmix64
// from one 64-bit seed. Not cryptographic.
//
// Seeding a run: one seed per run; each component gets a sub-seed, either drawn from
// the run's Rng with draw_seed() in a fixed order, or with derive(seed, label), which
// depends only on the seed and the label (so adding a component or a link does not
// change the others' streams).
#pragma once
#include <cstdint>
#include <string_view>

namespace herd {

// A probability converted once, at configuration time, into a 64-bit fixed-point
// threshold, so that every draw is an integer comparison.
class Probability {
 public:
  Probability() = default;  // Never.
  // REQUIRES: 0 <= p <= 1 (not NaN). Exact: p * 2^64 is a power-of-two scaling, then
  // truncated; p == 1 means always.
  static Probability of(double p);
  static Probability never() { return Probability(); }
  static Probability always();

  bool is_never() const { return !always_ && threshold_ == 0; }
  bool is_always() const { return always_; }
  uint64_t threshold() const { return threshold_; }  // P(true) = threshold / 2^64.
  // The probability as given, for display only (draws use the threshold).
  double value() const { return value_; }

  friend bool operator==(const Probability&, const Probability&) = default;

 private:
  uint64_t threshold_ = 0;
  bool always_ = false;
  double value_ = 0.0;
};

class Rng {
 public:
  // Expands the seed with splitmix64 (any seed, including 0, gives a valid state).
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  // A sub-seed for another component. Components must draw theirs in a fixed order.
  uint64_t draw_seed() { return next_u64(); }

  // Uniform in [lo, hi], inclusive, without modulo bias (Lemire's multiply-and-reject:
  // rejection happens with probability < (hi - lo + 1) / 2^64).
  // REQUIRES: lo <= hi.
  uint64_t uniform_u64(uint64_t lo, uint64_t hi);
  int64_t uniform_i64(int64_t lo, int64_t hi);

  // True with probability p.threshold() / 2^64; always draws exactly one number, even
  // for never and always, so a stream's position does not depend on the settings.
  bool bernoulli(Probability p);

  // An exponential variate of mean `mean` (any unit), rounded to the nearest integer.
  // Built from -ln(U), U uniform in (0, 1], computed with integers only (see
  // neg_ln_q32). Always draws exactly one number. The largest value is about
  // 44.4 * mean (U = 2^-64). REQUIRES: 0 <= mean <= 2^50.
  int64_t exponential(int64_t mean);

  // -ln(U) in unsigned Q32.32 fixed point for U = x / 2^64 (x = 0 is taken as 1).
  // Integer-only: the binary logarithm by repeated squaring (32 fraction bits), times
  // ln 2 in Q0.64. Accuracy: absolute error below 2^-31 (~4.7e-10; the Q32.32 output
  // step itself is 2^-32), measured against libm over millions of draws and every
  // power of two; tests/unit/rng_test.cc asserts it. So a delay of mean 1 s is off by
  // under a nanosecond.
  static uint64_t neg_ln_q32(uint64_t x);

 private:
  uint64_t s_[4];
};

// splitmix64's finaliser: a bijective 64-bit mix.
uint64_t mix64(uint64_t x);
// FNV-1a, 64-bit, of the label's bytes.
uint64_t hash_label(std::string_view label);
// A generator for the component named `label` under `seed`: depends only on both.
Rng derive(uint64_t seed, std::string_view label);

}  // namespace herd
