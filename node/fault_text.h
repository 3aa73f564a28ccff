// Numbers as the fault files, console commands and command-line flags write them:
// one grammar everywhere, JSON's (a faults file is JSON), so `--drop 1e-3`, `set A B
// drop=1e-3` and {"drop": 1e-3} mean the same. Milliseconds in [0, 3600000] kept to
// the nearest nanosecond, probabilities in [0, 1]. Parsing and printing are the same
// on every platform (std::from_chars / std::to_chars, integer arithmetic), so a
// status line or a log line never depends on the C library's locale.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "node/rng.h"

namespace herd {

// Text in JSON's number grammar (RFC 8259 section 6:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) -> the nearest double, as the
// files' JSON reader gives it (node/json_where.h: so the flag and the file agree to
// the bit); a magnitude too small for a double is 0. nullopt for any other text
// ("0x1", ".5", "1.", "+1", "inf", " 1") or a magnitude too large.
std::optional<double> parse_json_number(std::string_view text);

// "12", "12.5", "1e1" milliseconds -> nanoseconds: parse_json_number, then
// ms_to_ns. nullopt otherwise.
std::optional<int64_t> parse_ms(std::string_view text);
// A JSON number of milliseconds -> nanoseconds, rounded to the nearest nanosecond.
// nullopt when not finite or outside [0, 3600000] ms.
std::optional<int64_t> ms_to_ns(double ms);
// Nanoseconds as milliseconds, trailing zeros trimmed: 12500000 -> "12.5".
std::string ms_text(int64_t ns);

// "0.1", "1", "1e-3" -> the probability: parse_json_number, then probability_from.
std::optional<Probability> parse_probability(std::string_view text);
// A double from JSON -> the probability; nullopt unless in [0, 1] (NaN is not).
std::optional<Probability> probability_from(double p);
// The shortest text that reads back as the same double: "0.1", "1", "0".
std::string probability_text(Probability p);

}  // namespace herd
