// node/rng.h: golden values (the generator must never change silently: recorded
// runs depend on it), bounds, rough uniformity, rates and the integer logarithm.
#include "node/rng.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace herd {
namespace {

TEST_CASE("rng: golden xoshiro256** stream seeded by splitmix64") {
  // Cross-checked once against the reference algorithms.
  Rng rng(42);
  CHECK(rng.next_u64() == 0x15780b2e0c2ec716ull);
  CHECK(rng.next_u64() == 0x6104d9866d113a7eull);
  CHECK(rng.next_u64() == 0xae17533239e499a1ull);
  CHECK(derive(42, "Riley>Jaquez").next_u64() == 0x1c774afbc739b3ddull);
}

TEST_CASE("rng: golden uniform and exponential draws") {
  Rng uniform(7);
  const std::vector<uint64_t> expected_uniform = {37, 17, 43, 50, 50};
  for (const uint64_t value : expected_uniform) CHECK(uniform.uniform_u64(5, 50) == value);
  Rng exponential(7);
  const std::vector<int64_t> expected_exponential = {355852, 1277436, 174797, 19083, 9182};
  for (const int64_t value : expected_exponential) CHECK(exponential.exponential(1'000'000) == value);
}

TEST_CASE("rng: same seed, same stream; different seed or label, different stream") {
  Rng a(123), b(123), c(124);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    CHECK(x == b.next_u64());
    differs = differs || x != c.next_u64();
  }
  CHECK(differs);
  CHECK(derive(1, "A>B").next_u64() == derive(1, "A>B").next_u64());
  CHECK(derive(1, "A>B").next_u64() != derive(1, "B>A").next_u64());
  CHECK(derive(1, "A>B").next_u64() != derive(2, "A>B").next_u64());
  Rng root(9), again(9);
  CHECK(root.draw_seed() == again.draw_seed());
  CHECK(root.draw_seed() != Rng(9).draw_seed());  // The second sub-seed differs from the first.
}

TEST_CASE("rng: uniform stays in bounds and is roughly uniform") {
  Rng rng(2024);
  constexpr int kDraws = 200'000;
  std::vector<int> buckets(46, 0);
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t x = rng.uniform_u64(5, 50);
    REQUIRE(x >= 5);
    REQUIRE(x <= 50);
    ++buckets[x - 5];
  }
  // Each bucket expects 4348 (sd about 65): 6 sd either way.
  for (const int count : buckets) {
    CHECK(count > 3950);
    CHECK(count < 4750);
  }
  for (int i = 0; i < 1000; ++i) {
    const int64_t y = rng.uniform_i64(-3, 3);
    CHECK(y >= -3);
    CHECK(y <= 3);
  }
  CHECK(rng.uniform_u64(9, 9) == 9);
  CHECK(rng.uniform_i64(INT64_MIN, INT64_MAX) != rng.uniform_i64(INT64_MIN, INT64_MAX));
}

TEST_CASE("rng: no modulo bias for a range just above 2^63") {
  // With modulo, values below 2^64 - range would come twice as often.
  Rng rng(5);
  const uint64_t range_hi = (uint64_t{1} << 63) + (uint64_t{1} << 62);
  int low = 0;
  constexpr int kDraws = 100'000;
  for (int i = 0; i < kDraws; ++i) low += rng.uniform_u64(0, range_hi) < (uint64_t{1} << 62) ? 1 : 0;
  // Fair: 1/3 of the draws; modulo bias would give 1/2.
  CHECK(std::abs(low - kDraws / 3) < 1500);
}

TEST_CASE("rng: bernoulli rate and the ends") {
  Rng rng(77);
  constexpr int kDraws = 200'000;
  int hits = 0;
  for (int i = 0; i < kDraws; ++i) hits += rng.bernoulli(Probability::of(0.1)) ? 1 : 0;
  CHECK(std::abs(hits - kDraws / 10) < 800);  // sd about 134.
  for (int i = 0; i < 1000; ++i) {
    CHECK(rng.bernoulli(Probability::of(1.0)));
    CHECK_FALSE(rng.bernoulli(Probability::of(0.0)));
  }
  CHECK(Probability::of(0.5).threshold() == uint64_t{1} << 63);
  CHECK(Probability::of(1.0).is_always());
  CHECK(Probability::of(0.0).is_never());
  CHECK(Probability::of(0.25).value() == 0.25);
}

TEST_CASE("rng: every draw takes one number whatever the probability") {
  Rng a(3), b(3);
  (void)a.bernoulli(Probability::of(1.0));
  (void)b.bernoulli(Probability::of(0.0));
  CHECK(a.next_u64() == b.next_u64());
}

TEST_CASE("rng: integer -ln(U) is within 2^-31 of libm") {
  Rng rng(11);
  long double worst = 0;
  auto check = [&](uint64_t x) {
    const long double u = (x == 0 ? 1.0L : static_cast<long double>(x)) / 18446744073709551616.0L;
    const long double got = static_cast<long double>(Rng::neg_ln_q32(x)) / 4294967296.0L;
    worst = std::max(worst, std::fabs(got + std::log(u)));
  };
  for (int i = 0; i < 200'000; ++i) {
    const uint64_t x = rng.next_u64();
    check(x);
    check(x >> (i % 64));
  }
  for (int k = 0; k < 64; ++k) {
    check(uint64_t{1} << k);
    check((uint64_t{1} << k) + 1);
    check((uint64_t{1} << k) - 1);
  }
  check(~uint64_t{0});
  CHECK(worst < std::ldexp(1.0L, -31));
  CHECK(Rng::neg_ln_q32(uint64_t{1} << 63) == 2977044472u);  // ln 2 in Q32.32.
}

TEST_CASE("rng: exponential mean within tolerance") {
  Rng rng(99);
  constexpr int kDraws = 200'000;
  long double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const int64_t x = rng.exponential(15'000'000);
    REQUIRE(x >= 0);
    sum += static_cast<long double>(x);
  }
  // Standard error 15 ms / sqrt(200000), about 0.034 ms: allow 0.2 ms.
  CHECK(std::fabs(sum / kDraws - 15'000'000.0L) < 200'000.0L);
  CHECK(rng.exponential(0) == 0);
}

}  // namespace
}  // namespace herd
