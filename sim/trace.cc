#include "sim/trace.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace herd {

Result<std::unique_ptr<TraceWriter>> TraceWriter::open(const std::string& path, TraceHeader header) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return Error{path + ": cannot write: " + std::strerror(errno)};
  std::unique_ptr<TraceWriter> w(new TraceWriter(file, path, std::move(header)));
  w->write_line(trace_header_line(w->header_));
  if (!w->error_.empty()) return Error{w->error_};
  return w;
}

TraceWriter::TraceWriter(std::FILE* file, std::string path, TraceHeader header)
    : file_(file), path_(std::move(path)), header_(std::move(header)) {
  // A large buffer: a simulated run writes millions of short lines.
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

TraceWriter::~TraceWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void TraceWriter::write_line(const std::string& line) {
  if (file_ == nullptr || !error_.empty()) return;
  if (bytes_ + line.size() + 1 > kBytesMax) {
    error_ = path_ + ": trace larger than " + std::to_string(kBytesMax) + " bytes: stopped";
    return;
  }
  bytes_ += line.size() + 1;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF) {
    error_ = path_ + ": cannot write: " + std::strerror(errno);
  }
}

void TraceWriter::on_input(int node_index, const Input& input, std::span<const Effect> outputs, const Node&) {
  if (file_ == nullptr) return;
  write_line(trace_input_line(inputs_++, node_index, input, outputs, header_.nodes));
}

std::string TraceWriter::close(const std::vector<const Node*>& nodes) {
  if (file_ == nullptr) return error_;
  write_line(trace_end_line(inputs_, state_digest(nodes)));
  if (std::fclose(file_) != 0 && error_.empty()) error_ = path_ + ": cannot write: " + std::strerror(errno);
  file_ = nullptr;
  return error_;
}

}  // namespace herd
