// The scenario's "sync" and "link_timings" sections (sim/scenario.h).
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

std::optional<Error> parse_link_timings_section(const JsonField& f, LinkTimings* t) {
  struct Key {
    const char* name;
    int64_t LinkTimings::*field;
  };
  static const Key kKeys[] = {{"backoff_min_ms", &LinkTimings::backoff_min_ns},
                              {"backoff_max_ms", &LinkTimings::backoff_max_ns},
                              {"hello_timeout_ms", &LinkTimings::hello_timeout_ns},
                              {"heartbeat_ms", &LinkTimings::heartbeat_ns},
                              {"suspect_ms", &LinkTimings::suspect_ns},
                              {"idle_timeout_ms", &LinkTimings::idle_timeout_ns}};
  if (auto e = f.expect_object({"backoff_min_ms", "backoff_max_ms", "hello_timeout_ms", "heartbeat_ms",
                                "suspect_ms", "idle_timeout_ms"})) {
    return e;
  }
  for (const Key& k : kKeys) {
    Result<int64_t> ms = int_member(f, k.name, 1, 3'600'000, t->*k.field / kNsPerMs);
    if (!ms.ok()) return Error{ms.error()};
    t->*k.field = ms.value() * kNsPerMs;
  }
  if (t->backoff_max_ns < t->backoff_min_ns) {
    return f.error("backoff_max_ms must be at least backoff_min_ms");
  }
  // The liveness check needs heartbeats to arrive before it gives up on a peer.
  if (t->idle_timeout_ns <= t->heartbeat_ns) return f.error("idle_timeout_ms must exceed heartbeat_ms");
  if (t->suspect_ns <= t->heartbeat_ns) return f.error("suspect_ms must exceed heartbeat_ms");
  return std::nullopt;
}

}  // namespace herd
