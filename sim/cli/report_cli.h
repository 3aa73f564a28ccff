// `herd report INPUT --html OUT.html`: the HTML report (sim/html_report.h) of a trace
// (from `herd sim --record` or `herd run --record`), a live run's log directory, or a
// sweep's JSON lines. And the file `herd sim --html` / `herd run --scenario --html`
// write to.
#pragma once
#include <cstdio>
#include <string>

#include "node/result.h"

namespace herd {

int report_command(int argc, char** argv);

// An HTML file opened before a run, so a bad path fails at once.
class HtmlOut {
 public:
  HtmlOut() = default;
  HtmlOut(const HtmlOut&) = delete;
  HtmlOut& operator=(const HtmlOut&) = delete;
  ~HtmlOut();
  Result<bool> open(const std::string& path);  // "--html PATH: No such file or directory".
  bool is_open() const { return file_ != nullptr; }
  std::string write(const std::string& text);  // Writes and closes; "" or the error.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace herd
