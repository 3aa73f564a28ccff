// The SYNC messages of the server-to-server protocol (node/PROTOCOL.md): one line
// each, "SYNC <kind> <session> ...". A session is numbered by the server that starts
// it (the initiator); every reply carries that number. Hashes are 16 lower-case hex
// digits, buckets decimal 0..255. Parsing is strict: anything else is malformed.
//
//   SYNC ROOT <sid> <count> <hash>             initiator: its table's size and digest
//   SYNC DONE <sid>                            responder: the digests agree, nothing to do
//   SYNC SUMS <sid> [<b>:<count>:<hash> ...]   responder: its non-empty buckets
//   SYNC KEYS <sid> <b> <key> [<key> ...]      initiator: records of bucket b, as keys
//                                              <client hash>:<time ns>:<tie hash>
//   SYNC DIFF <sid> [<b> ...]                  initiator: the buckets that differ; the
//                                              last of its keys was sent before
//   SYNC REC <sid> <AT line>                   either: a record the other may lack
//   SYNC GET <sid> <client hash> [...]         responder: records it wants from the initiator
//   SYNC END <sid> <0|1>                       responder: finished (1: its output was
//                                              cut short by its queue bound: sync again)
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herd {

constexpr int kSyncBuckets = 256;

enum class SyncKind : uint8_t { kRoot, kDone, kSums, kKeys, kDiff, kRec, kGet, kEnd };

struct SyncKey {
  uint64_t client_hash = 0;
  int64_t time_ns = 0;
  uint32_t tie_hash = 0;  // Of the origin and location: tells equal times apart.
  friend bool operator==(const SyncKey&, const SyncKey&) = default;
};

struct SyncSum {
  int bucket = 0;
  uint64_t count = 0;
  uint64_t hash = 0;
};

// One parsed SYNC message; the fields its kind uses are set. Views point into the line.
struct SyncMessage {
  SyncKind kind = SyncKind::kRoot;
  uint64_t sid = 0;
  uint64_t count = 0;        // kRoot.
  uint64_t hash = 0;         // kRoot.
  int bucket = 0;            // kKeys.
  bool more = false;         // kEnd.
  std::vector<SyncSum> sums;        // kSums.
  std::vector<SyncKey> keys;        // kKeys.
  std::vector<int> buckets;         // kDiff.
  std::vector<uint64_t> hashes;     // kGet.
  std::string_view at_line;         // kRec.
};

std::optional<SyncMessage> parse_sync(std::string_view line);

std::string sync_root(uint64_t sid, uint64_t count, uint64_t hash);
std::string sync_done(uint64_t sid);
std::string sync_sums(uint64_t sid, const std::vector<SyncSum>& sums);
std::string sync_keys(uint64_t sid, int bucket, const std::vector<SyncKey>& keys);
std::string sync_diff(uint64_t sid, const std::vector<int>& buckets);
std::string sync_rec(uint64_t sid, std::string_view at_line);
std::string sync_get(uint64_t sid, const std::vector<uint64_t>& hashes);
std::string sync_end(uint64_t sid, bool more);

}  // namespace herd
