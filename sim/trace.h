// Writing traces to a file (the format is node/trace_format.h, shared by every host).
// A TraceWriter is an InputObserver: add it to every NodeDriver of a run, in header
// order (driver index = the header's node index), and close it at the end:
//   auto w = TraceWriter::open("run.trace", header);      // Result<unique_ptr<..>>
//   driver.add_observer(w.value().get());
//   ... run ...
//   w->close(nodes);   // footer with the final digest; returns the first write error.
// Single-threaded, like the hosts.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "node/input_observer.h"
#include "node/node.h"
#include "node/result.h"
#include "node/trace_format.h"

namespace herd {

class TraceWriter final : public InputObserver {
 public:
  // Creates (truncates) `path` and writes the header. Errors: "PATH: cannot write: ...".
  static Result<std::unique_ptr<TraceWriter>> open(const std::string& path, TraceHeader header);
  ~TraceWriter() override;  // Closes without a footer if close() was not called.
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void on_input(int node_index, const Input& input, std::span<const Effect> outputs,
                const Node& node) override;

  // Writes the footer with state_digest(nodes) (in header order), flushes and
  // closes. Returns "" or the first write error. Later inputs are ignored.
  std::string close(const std::vector<const Node*>& nodes);

  uint64_t inputs() const { return inputs_; }
  // Limits: past this many bytes the writer stops and close() reports it.
  static constexpr uint64_t kBytesMax = uint64_t{64} << 30;

 private:
  TraceWriter(std::FILE* file, std::string path, TraceHeader header);
  void write_line(const std::string& line);

  std::FILE* file_;
  std::string path_;
  TraceHeader header_;
  uint64_t inputs_ = 0;
  uint64_t bytes_ = 0;
  std::string error_;
};

}  // namespace herd
