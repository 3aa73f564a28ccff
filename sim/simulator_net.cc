// The Simulator's TCP: connections between nodes in virtual time. A write goes
// through the fault channel (node/fault_channel.h), then into the receiver's buffer
// (node/link_machine.h's socket buffers; its reader takes one message per kDeliver event, in order)
// or, when that is full, into the sender's queue, whose size raises and clears
// backpressure at the same limit as the live host. Connecting takes no time: a dial
// to a listening server succeeds at once, to a crashed one it is refused at once.
#include <utility>

#include "node/check.h"
#include "node/link_machine.h"
#include "sim/simulator.h"

namespace herd {
namespace {

// What the kernels would buffer for a reader that is not reading (a paused server).
constexpr uint64_t kReceiveBufferBytes = kPeerKernelBytes;

uint64_t conn_key(int node, ConnId id) { return static_cast<uint64_t>(node) << 40 | id; }

}  // namespace

uint32_t Simulator::conn_of(int node, ConnId id) const {
  auto it = conn_index_.find(conn_key(node, id));
  return it == conn_index_.end() ? UINT32_MAX : it->second;
}

uint64_t Simulator::queued(int link) const {
  uint64_t n = 0;
  for (const Held& h : held_) {
    if (h.conn != UINT32_MAX && h.msg.protocol && conns_[h.conn].link[h.dir] == link) ++n;
  }
  for (const Conn& c : conns_) {
    for (int dir = 0; dir < 2; ++dir) {
      if (c.link[dir] != link) continue;
      for (const Msg& m : c.dir[dir].sendq) n += m.protocol ? 1 : 0;
    }
  }
  return n;
}

void Simulator::dial(int node, const Effect& e) {
  const int target = index_.neighbours(node)[static_cast<size_t>(e.peer)];
  if (crashed_[static_cast<size_t>(target)]) {
    schedule(SimEventKind::kDialed, now_ns_, static_cast<uint32_t>(node), static_cast<uint32_t>(e.peer), 0,
             e.request);
    return;
  }
  Conn c;
  c.node[0] = node, c.node[1] = target;
  c.id[0] = next_conn_[static_cast<size_t>(node)]++;
  c.id[1] = next_conn_[static_cast<size_t>(target)]++;
  const std::string& a = configs_[static_cast<size_t>(node)].name;
  const std::string& b = configs_[static_cast<size_t>(target)].name;
  c.link[0] = faults_.link_id(a, b);
  c.link[1] = faults_.link_id(b, a);
  HERD_ASSERT(c.link[0] >= 0 && c.link[1] >= 0);
  const auto index = static_cast<uint32_t>(conns_.size());
  conn_index_[conn_key(node, c.id[0])] = index;
  conn_index_[conn_key(target, c.id[1])] = index;
  schedule(SimEventKind::kDialed, now_ns_, static_cast<uint32_t>(node), static_cast<uint32_t>(e.peer),
           static_cast<uint32_t>(c.id[0]), e.request);
  conns_.push_back(std::move(c));
}

void Simulator::send(int node, Effect& e) {
  const uint32_t index = conn_of(node, e.conn);
  const bool protocol = e.traffic == Traffic::kProtocol;
  if (index == UINT32_MAX || !conns_[index].open) return;
  Conn& c = conns_[index];
  const int dir = c.node[0] == node && c.id[0] == e.conn ? 0 : 1;
  const int link = c.link[dir];
  const ChannelCopies copies = channel_.offer(link, e.traffic, e.bytes.size(), now_ns_);
  for (int i = 0; i < copies.count; ++i) {
    Msg msg;
    msg.bytes = static_cast<uint32_t>(e.bytes.size());
    msg.protocol = protocol;
    // The last copy takes the effect's bytes; an earlier one (a duplicate) copies.
    msg.slot = slot_acquire(i + 1 < copies.count ? std::string(e.bytes) : std::move(e.bytes));
    if (protocol) ++inflight_;
    if (copies.immediate[i]) {
      write(index, dir, msg);
      continue;
    }
    uint32_t h;
    if (!free_held_.empty()) {
      h = free_held_.back();
      free_held_.pop_back();
    } else {
      h = static_cast<uint32_t>(held_.size());
      held_.emplace_back();
    }
    held_[h] = Held{index, dir, msg};
    schedule(SimEventKind::kDue, now_ns_ + copies.delay_ns[i], h);
  }
}

void Simulator::due(const SimEvent& e) {
  const Held held = held_[e.a];
  held_[e.a].conn = UINT32_MAX;
  free_held_.push_back(e.a);
  Conn& c = conns_[held.conn];
  const Traffic traffic = held.msg.protocol ? Traffic::kProtocol : Traffic::kControl;
  if (!channel_.due(c.link[held.dir], traffic, c.open)) {
    if (held.msg.protocol) --inflight_;
    slot_release(held.msg.slot);
    return;
  }
  write(held.conn, held.dir, held.msg);
}

// Into the receiver's buffer when it has room and nothing waits before it.
void Simulator::write(uint32_t index, int dir, Msg msg) {
  Conn& c = conns_[index];
  Conn::Dir& d = c.dir[dir];
  if (d.sendq.empty() && d.inbox_bytes < kReceiveBufferBytes) {
    d.inbox.push_back(msg);
    d.inbox_bytes += msg.bytes + 1;
    if (msg.protocol) faults_.count_delivered(c.link[dir]);
    schedule(SimEventKind::kDeliver, now_ns_, index, static_cast<uint32_t>(dir));
    return;
  }
  d.sendq.push_back(msg);
  d.sendq_bytes += msg.bytes + 1;
  backpressure(index, dir);
}

void Simulator::refill(uint32_t index, int dir) {
  Conn& c = conns_[index];
  Conn::Dir& d = c.dir[dir];
  while (!d.sendq.empty() && d.inbox_bytes < kReceiveBufferBytes) {
    const Msg msg = d.sendq.front();
    d.sendq.pop_front();
    d.sendq_bytes -= msg.bytes + 1;
    d.inbox.push_back(msg);
    d.inbox_bytes += msg.bytes + 1;
    if (msg.protocol) faults_.count_delivered(c.link[dir]);
    schedule(SimEventKind::kDeliver, now_ns_, index, static_cast<uint32_t>(dir));
  }
  backpressure(index, dir);
}

// The sender hears when its queue goes over the limit, and when it is back under half.
void Simulator::backpressure(uint32_t index, int dir) {
  Conn& c = conns_[index];
  Conn::Dir& d = c.dir[dir];
  const bool over = d.sendq_bytes > queue_limit_bytes_;
  const bool under = d.sendq_bytes <= queue_limit_bytes_ / 2;
  if ((!d.full && over) || (d.full && under)) {
    d.full = over;
    schedule(SimEventKind::kBackpressure, now_ns_, static_cast<uint32_t>(c.node[dir]), over ? 1 : 0, 0, c.id[dir]);
  }
}

void Simulator::deliver(const SimEvent& e) {
  Conn& c = conns_[e.a];
  const int dir = static_cast<int>(e.b);
  const int reader = c.node[1 - dir];
  if (!c.open) return;  // Its messages were counted when it closed.
  if (defer_if_paused(reader, e)) return;
  Conn::Dir& d = c.dir[dir];
  HERD_ASSERT(!d.inbox.empty());
  const Msg msg = d.inbox.front();
  d.inbox.pop_front();
  d.inbox_bytes -= msg.bytes + 1;
  if (msg.protocol) {
    --inflight_;
    ++deliveries_;
  }
  std::string text = std::move(pool_[msg.slot]);
  slot_release(msg.slot);
  Input in;
  in.kind = InputKind::kLine;
  // The acceptor's first line tells it who is calling.
  in.flags = dir == 0 && c.lines_in[dir] == 0 ? kFirstLine : 0;
  ++c.lines_in[dir];
  in.now = now_at(reader);
  in.conn = c.id[1 - dir];
  in.text = text;
  if (in.flags & kFirstLine) add_nonce(&in);
  refill(e.a, dir);
  feed(reader, in);
}

void Simulator::close_conn(uint32_t index, bool tell0, bool tell1, const char* why) {
  Conn& c = conns_[index];
  if (!c.open) return;
  c.open = false;
  for (int dir = 0; dir < 2; ++dir) {
    Conn::Dir& d = c.dir[dir];
    // Unsent bytes die with the connection; read-buffered ones were delivered.
    for (const Msg& msg : d.sendq) {
      if (msg.protocol) {
        --inflight_;
        faults_.count_lost(c.link[dir]);
      }
      slot_release(msg.slot);
    }
    for (const Msg& msg : d.inbox) {
      if (msg.protocol) --inflight_;
      slot_release(msg.slot);
    }
    d = Conn::Dir{};
    if (c.link[dir] >= 0) channel_.closed(c.link[dir], now_ns_);
  }
  for (int side = 0; side < 2; ++side) {
    conn_index_.erase(static_cast<uint64_t>(c.node[side]) << 40 | c.id[side]);
    if (!(side == 0 ? tell0 : tell1) || crashed_[static_cast<size_t>(c.node[side])]) continue;
    const uint32_t slot = slot_acquire(why);
    schedule(SimEventKind::kClosed, now_ns_, static_cast<uint32_t>(c.node[side]), slot, 0, c.id[side]);
  }
}

void Simulator::close_by(int node, ConnId id, const char* why) {
  const uint32_t index = conn_of(node, id);
  if (index == UINT32_MAX) return;
  const bool first = conns_[index].node[0] == node && conns_[index].id[0] == id;
  close_conn(index, !first, first, why);
}

void Simulator::close_all(int node) {
  for (uint32_t i = 0; i < conns_.size(); ++i) {
    Conn& c = conns_[i];
    if (!c.open || (c.node[0] != node && c.node[1] != node)) continue;
    close_conn(i, c.node[0] != node, c.node[1] != node, "eof");
  }
}

void Simulator::reset_link(const std::string& a, const std::string& b) {
  const int x = index_.index_of(a), y = index_.index_of(b);
  for (uint32_t i = 0; i < conns_.size(); ++i) {
    Conn& c = conns_[i];
    if (!c.open) continue;
    if ((c.node[0] == x && c.node[1] == y) || (c.node[0] == y && c.node[1] == x)) close_conn(i, true, true, "reset");
  }
}

}  // namespace herd
