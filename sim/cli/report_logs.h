// `herd report LOGDIR --html OUT`: the HTML report of a live run from its logs
// (node/PROTOCOL.md, Logs): every <server>.log of the directory, merged by time. Peer
// messages come from the send and recv lines, updates from the IAMAT replies (an
// AT line whose origin is the server itself), stores from the first recv of a record,
// link faults from peer-down lines and the timeline from fault lines.
// Limits: at most kLogFilesMax files, kLogBytesMax bytes in all, lines of at most
// kLogLineBytesMax bytes.
#pragma once
#include <cstddef>
#include <string>

namespace herd {

class HtmlOut;

constexpr size_t kLogFilesMax = 10'000;
constexpr size_t kLogBytesMax = size_t{1} << 30;
constexpr size_t kLogLineBytesMax = size_t{1} << 20;

int report_logs(const std::string& dir, HtmlOut& out);

}  // namespace herd
