// The scenario's "sync" section (sim/scenario.h).
#include "sim/scenario_parse.h"

namespace herd {

std::optional<Error> parse_sync_section(const JsonField& f, SyncConfig* sync) {
  if (auto e = f.expect_object({"mode", "interval_ms", "bytes_per_s"})) return e;
  if (std::optional<JsonField> mode = f.optional("mode")) {
    Result<std::string> text = mode->expect_word(16);
    std::optional<SyncMode> parsed = text.ok() ? parse_sync_mode(text.value()) : std::nullopt;
    if (!parsed) return mode->error("must be \"off\", \"link-up\" or \"periodic\"");
    sync->mode = *parsed;
  }
  Result<int64_t> interval = int_member(f, "interval_ms", 1, 86'400'000, sync->interval_ns / kNsPerMs);
  if (!interval.ok()) return Error{interval.error()};
  sync->interval_ns = interval.value() * kNsPerMs;
  Result<int64_t> rate = int_member(f, "bytes_per_s", 1024, int64_t{1} << 40, static_cast<int64_t>(sync->bytes_per_s));
  if (!rate.ok()) return Error{rate.error()};
  sync->bytes_per_s = static_cast<uint64_t>(rate.value());
  return std::nullopt;
}

}  // namespace herd
