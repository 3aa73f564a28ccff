#include "node/check.h"
#include "node/rng.h"

#include <bit>

namespace herd {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
// ln 2 * 2^64, rounded to nearest.
constexpr uint64_t kLn2Q64 = 0xB17217F7D1CF79ACull;
constexpr double kTwoTo64 = 18446744073709551616.0;

using u128 = unsigned __int128;

uint64_t splitmix64(uint64_t& state) {
  state += kGolden;
  return mix64(state);
}

// log2(m) in Q0.32 for m in [1, 2) given in Q2.62: one bit per squaring (if m^2 >= 2
// the bit is 1 and m^2 / 2 carries on). Each squaring is rounded to nearest, which
// keeps the error unbiased; m stays below 2^63, so m^2 never overflows 128 bits and
// the rounded square stays below 2^64.
uint64_t log2_fraction_q32(uint64_t m_q62) {
  uint64_t m = m_q62;
  uint64_t fraction = 0;
  for (int bit = 0; bit < 32; ++bit) {
    const u128 square = static_cast<u128>(m) * m;
    m = static_cast<uint64_t>((square + (static_cast<u128>(1) << 61)) >> 62);
    fraction <<= 1;
    if (m >= (uint64_t{1} << 63)) {
      fraction |= 1;
      m = (m >> 1) + (m & 1);
    }
  }
  return fraction;
}

}  // namespace

uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t hash_label(std::string_view label) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (const char c : label) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ull;
  }
  return h;
}

Rng derive(uint64_t seed, std::string_view label) {
  return Rng(mix64(mix64(seed + kGolden) + hash_label(label)));
}

Probability Probability::of(double p) {
  HERD_ASSERT(p >= 0.0 && p <= 1.0);
  if (p >= 1.0) return always();
  Probability result;
  result.value_ = p > 0.0 ? p : 0.0;  // No "-0" in status lines.
  // Exact: multiplying by a power of two only moves the exponent; p < 1 keeps the
  // product below 2^64 (at most 2^64 - 2^11).
  result.threshold_ = p > 0.0 ? static_cast<uint64_t>(p * kTwoTo64) : 0;
  return result;
}

Probability Probability::always() {
  Probability result;
  result.always_ = true;
  result.value_ = 1.0;
  return result;
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = splitmix64(state);
}

uint64_t Rng::next_u64() {
  const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

uint64_t Rng::uniform_u64(uint64_t lo, uint64_t hi) {
  HERD_ASSERT(lo <= hi);
  const uint64_t range = hi - lo + 1;
  if (range == 0) return next_u64();  // The full 64-bit range.
  u128 product = static_cast<u128>(next_u64()) * range;
  auto low = static_cast<uint64_t>(product);
  if (low < range) {
    const uint64_t threshold = (0 - range) % range;  // 2^64 mod range.
    while (low < threshold) {
      product = static_cast<u128>(next_u64()) * range;
      low = static_cast<uint64_t>(product);
    }
  }
  return lo + static_cast<uint64_t>(product >> 64);
}

int64_t Rng::uniform_i64(int64_t lo, int64_t hi) {
  HERD_ASSERT(lo <= hi);
  // Two's complement offsets: hi - lo fits in 64 unsigned bits for any lo <= hi.
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + uniform_u64(0, span));
}

bool Rng::bernoulli(Probability p) {
  const uint64_t x = next_u64();
  return p.is_always() || x < p.threshold();
}

uint64_t Rng::neg_ln_q32(uint64_t x) {
  if (x == 0) x = 1;
  // U = x / 2^64 = 2^(63 - zeros - 64) * m with m in [1, 2), so
  // -log2(U) = zeros + 1 - log2(m).
  const int zeros = std::countl_zero(x);
  const uint64_t m_q62 = (x << zeros) >> 1;
  const uint64_t neg_log2_q32 =
      (static_cast<uint64_t>(zeros + 1) << 32) - log2_fraction_q32(m_q62);
  const u128 product = static_cast<u128>(neg_log2_q32) * kLn2Q64;
  return static_cast<uint64_t>((product + (static_cast<u128>(1) << 63)) >> 64);
}

int64_t Rng::exponential(int64_t mean) {
  HERD_ASSERT(mean >= 0 && mean <= (int64_t{1} << 50));
  const uint64_t neg_ln = neg_ln_q32(next_u64());
  // mean < 2^51 and neg_ln < 2^38: the product fits in 89 bits.
  const u128 product = static_cast<u128>(mean) * neg_ln + (uint64_t{1} << 31);
  return static_cast<int64_t>(product >> 32);
}

}  // namespace herd
