// Numbers as the fault files and console commands write them: milliseconds with up
// to 6 decimals, probabilities in [0, 1]. Parsing and printing are exact and the same
// on every platform (std::from_chars / std::to_chars, integer arithmetic), so a
// status line or a log line never depends on the C library's locale.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "node/rng.h"

namespace herd {

// "12", "12.5", "0.000001" milliseconds -> nanoseconds. No sign, no exponent, at
// most 6 decimals, at most 3600000 ms. nullopt otherwise.
std::optional<int64_t> parse_ms(std::string_view text);
// A JSON number of milliseconds -> nanoseconds, rounded to the nearest nanosecond.
// nullopt when not finite or outside [0, 3600000] ms.
std::optional<int64_t> ms_to_ns(double ms);
// Nanoseconds as milliseconds, trailing zeros trimmed: 12500000 -> "12.5".
std::string ms_text(int64_t ns);

// "0.1", "1", "0" -> the probability; nullopt unless a plain number in [0, 1].
std::optional<Probability> parse_probability(std::string_view text);
// A double from JSON -> the probability; nullopt unless in [0, 1] (NaN is not).
std::optional<Probability> probability_from(double p);
// The shortest text that reads back as the same double: "0.1", "1", "0".
std::string probability_text(Probability p);

}  // namespace herd
