// The fault model of one directed server-to-server link: what happens to each flood
// message handed to it (dropped, delayed, duplicated). Pure and deterministic: the
// model owns a random stream derived from (seed, "FROM>TO") and reads no clock; the
// caller passes the current monotonic time. Reused by the live herd and the
// virtual-time simulator (through FaultState and FaultyLink).
//
// Determinism: every message handed to a link takes exactly one number from the
// link's stream (also when it is cut or dropped), and its decisions come from a
// per-message generator seeded with that number, in a fixed order (drop, duplicate,
// first delay, second delay). So the n-th message on a link meets the same decisions
// run after run, whatever happened on other links, given the same settings.
//
// Reordering only ever comes from random delays (uniform or exponential). With a
// constant delay the model keeps the link FIFO: it never schedules a delivery before
// the latest one already scheduled on that link (this matters after a settings
// change, e.g. from uniform to constant, or from 50 ms to 10 ms).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "node/rng.h"

namespace herd {

// Limits on settings, in the spirit of "put a limit on everything".
constexpr int64_t kMaxDelayNs = 3'600'000'000'000;  // One hour.
constexpr uint64_t kMaxBandwidthKbps = 100'000'000;  // 100 Gbit/s.

enum class DelayKind : uint8_t { kConstant, kUniform, kExponential };

// A delay distribution, in nanoseconds. Files and commands give milliseconds.
//   constant:    always value_ns.
//   uniform:     uniform integer in [min_ns, max_ns].
//   exponential: min_ns + an exponential of mean (mean_ns - min_ns), so the mean
//                delay is mean_ns and no delay is below min_ns.
struct DelayDist {
  DelayKind kind = DelayKind::kConstant;
  int64_t value_ns = 0;  // kConstant.
  int64_t min_ns = 0;    // kUniform, kExponential.
  int64_t max_ns = 0;    // kUniform.
  int64_t mean_ns = 0;   // kExponential: the mean of the whole delay (>= min_ns).

  static DelayDist constant(int64_t value_ns);
  static DelayDist uniform(int64_t min_ns, int64_t max_ns);
  static DelayDist exponential(int64_t min_ns, int64_t mean_ns);

  bool random() const;  // Whether two messages may be reordered.
  // Empty when valid, else why not: "min must not exceed max".
  std::string invalid() const;
  // "10ms", "5-50ms", "exp:5:20ms" (milliseconds, up to 6 decimals).
  std::string text() const;
  friend bool operator==(const DelayDist&, const DelayDist&) = default;
};

// The settings of one directed link.
struct LinkFaults {
  Probability drop;       // Each message is lost with this probability.
  DelayDist delay;        // Each delivered copy is delayed by a draw of this.
  Probability duplicate;  // A message not dropped is delivered twice with this.
  uint64_t bandwidth_kbps = 0;  // > 0: bytes leave at this rate (kilobits per second),
                                // so a burst queues; 0: no limit.
  // "drop=0.1 delay=5-50ms dup=0", then " bandwidth_kbps=N" when limited.
  std::string text() const;
  friend bool operator==(const LinkFaults&, const LinkFaults&) = default;
};

enum class Fate : uint8_t {
  kDeliver,  // One or two copies, each after its delay.
  kDrop,     // Lost by the drop probability.
  kCut,      // Lost because the link is cut, partitioned, or an end is crashed.
  kBlackhole,  // Swallowed by a blackholed connection.
};

// What happens to one message on one directed link.
struct Decision {
  uint64_t msg = 0;  // The message's number on its directed link, from 1.
  Fate fate = Fate::kDeliver;
  int copies = 0;    // kDeliver: 1, or 2 when duplicated; otherwise 0.
  int64_t delay_ns[2] = {0, 0};  // Per copy, from the time of the decision.

  bool faulty() const;  // Whether anything was injected (a drop, delay, copy or cut).
};

// The log text of a decision that injected a fault, empty otherwise:
//   "fault drop Riley>Jaquez msg#17"
//   "fault cut Riley>Jaquez msg#17"
//   "fault blackhole Riley>Jaquez msg#17"
//   "fault delay Riley>Jaquez msg#17 delay_ns=12000000"
//   "fault duplicate Riley>Jaquez msg#17 delay_ns=12000000,30000000"
std::string fault_text(const Decision& decision, std::string_view link_label);

// The model of one directed link. Owns its stream and its FIFO horizon.
class LinkModel {
 public:
  // The stream is derive(seed, label); label is "FROM>TO".
  LinkModel(uint64_t seed, std::string_view label, LinkFaults faults = {});

  const LinkFaults& faults() const { return faults_; }
  // REQUIRES: faults.delay.invalid() is empty.
  void set_faults(const LinkFaults& faults);

  // The next message's fate. REQUIRES: now_ns never decreases between calls.
  Decision decide(int64_t now_ns);
  // The next message is lost before the model sees it (cut, blackhole): it still
  // takes its number from the stream, so later messages meet the same decisions.
  Decision skip(Fate fate);

  uint64_t messages() const { return messages_; }

 private:
  int64_t draw_delay(Rng& rng) const;
  int64_t fifo_delay(int64_t delay_ns, int64_t now_ns);

  Rng stream_;
  LinkFaults faults_;
  uint64_t messages_ = 0;
  int64_t last_due_ns_ = INT64_MIN;  // Latest delivery time scheduled, absolute.
};

}  // namespace herd
