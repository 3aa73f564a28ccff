// One client connection's owed replies (PROTOCOL.md: replies in request order,
// each written whole, every owed reply sent after EOF before closing). A slot is
// opened per answer the core owes: ready at once for a kReply with request 0, or
// pending for a kPlacesRequest until its kReply arrives. flush() writes the ready
// prefix of the queue as one uv_write.
//
// What a client is owed counts against its stream's output limit (LineStream's
// max_output_bytes, 4 MiB): the replies ready but not yet written (behind an
// unanswered WHATSAT, or within a batch), and kPendingReplyReserveBytes for each
// WHATSAT still waiting for Places, replaced by the real size when its answer comes.
// So a client that sends WHATSATs and never reads starts at most about
// 4 MiB / 64 KiB = 64 Places requests before its lines stop being processed.
//
// Owned by its ServerHost, which is the stream's handler; the stream is not owned
// (it deletes itself) and is only used until stream_closed().
#pragma once
#include <cstddef>
#include <deque>
#include <string>

#include "net/line_stream.h"
#include "node/effects.h"

namespace herd {

class LogWriter;

class ClientConn {
 public:
  // Past this many unanswered WHATSATs the connection stops reading until half are
  // answered (a limit on a pipelining client's memory, like the output limit).
  static constexpr size_t kMaxPendingSlots = 1024;
  // What an unanswered WHATSAT counts against the output limit until its answer
  // comes: about the size of a 20-result Places answer.
  static constexpr size_t kPendingReplyReserveBytes = 64 * 1024;

  ClientConn(ConnId id, LineStream* stream, LogWriter* log);

  ConnId id() const { return id_; }
  const std::string& label() const { return label_; }  // "c7", the log's subject.
  LineStream* stream() const { return stream_; }
  size_t lines_seen() const { return lines_seen_; }
  // Accepted on the peer port: a first line that is not a neighbour's hello closes it.
  void set_peers_only() { peers_only_ = true; }
  bool peers_only() const { return peers_only_; }
  void count_line() { ++lines_seen_; }

  // While a read's lines are handled, writes wait for end_batch() (coalescing).
  void begin_batch() { batching_ = true; }
  bool batching() const { return batching_; }
  void end_batch();

  // kReply with request 0. `echo_of` > 0: the reply is "? " and the connection's line
  // number `echo_of` (already logged as `in`), so the log shows "? <line N>" instead.
  void add_reply(std::string bytes, uint64_t echo_of = 0);
  void open_pending(RequestId request);    // kPlacesRequest.
  bool fill(RequestId request, std::string bytes);  // Its kReply; false if unknown.

  // The client half-closed: finish once nothing is owed.
  void on_eof();
  void stream_closed() { stream_ = nullptr; }
  size_t owed() const { return slots_.size(); }
  size_t pending() const { return pending_; }  // WHATSATs waiting for Places.

 private:
  struct Slot {
    RequestId request = 0;  // 0: ready.
    bool ready = false;
    uint64_t echo_of = 0;   // add_reply's.
    std::string bytes;
  };
  void flush();
  void update_hold();
  // Tells the stream what is owed beyond what it has queued.
  void update_reserved();

  ConnId id_;
  std::string label_;
  LineStream* stream_;
  LogWriter* log_;
  std::deque<Slot> slots_;
  size_t pending_ = 0;  // Slots not ready.
  size_t ready_bytes_ = 0;  // Bytes of ready slots not yet written.
  size_t lines_seen_ = 0;
  bool batching_ = false;
  bool eof_ = false;
  bool held_ = false;
  bool peers_only_ = false;
};

}  // namespace herd
