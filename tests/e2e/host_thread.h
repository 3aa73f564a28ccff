// A HerdHost in this process, on a loop in its own thread, for the in-process host
// tests (host_test.cc, host_limits_test.cc): they talk to it over loopback sockets
// and see what a separate process would hide (handles left at the end).
#pragma once
#include <csignal>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <uv.h>

#include "net/herd_host.h"
#include "node/topology.h"
#include "tests/e2e/harness.h"

namespace herd {

inline Topology host_topology(const std::string& json) {
  Result<Topology> parsed = parse_topology(json, "test.json");
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  return parsed.value();
}

// A HerdHost on a loop running in its own thread; stop() ends it and reports how
// the loop closed.
class HostThread {
 public:
  HostThread(Topology topo, std::vector<std::string> hosted, HostOptions options)
      : topo_(std::move(topo)), hosted_(std::move(hosted)), options_(std::move(options)) {}
  ~HostThread() { stop(); }

  // The start() error, or "" once listening (and then "ready" is awaited separately).
  std::string start() {
    thread_ = std::thread([this] { body(); });
    return started_.get_future().get();
  }
  bool wait_ready(int timeout_ms) {
    return ready_.get_future().wait_for(std::chrono::milliseconds(timeout_ms)) ==
           std::future_status::ready;
  }
  int port(const std::string& name) const { return ports_.at(name); }
  // uv_loop_close's result (0: no handle was left), then handles walked before it.
  int stop() {
    if (!thread_.joinable()) return loop_close_;
    uv_async_send(&stop_);
    thread_.join();
    return loop_close_;
  }
  int handles_left() const { return handles_left_; }

 private:
  void body() {
    signal(SIGPIPE, SIG_IGN);  // As herd's main does: a closed peer is an error value.
    uv_loop_init(&loop_);
    uv_async_init(&loop_, &stop_, [](uv_async_t* async) noexcept {
      auto* self = static_cast<HostThread*>(async->data);
      self->host_->stop("test");
      uv_close(reinterpret_cast<uv_handle_t*>(async), nullptr);
    });
    stop_.data = this;
    {
      HerdHost host(&loop_, topo_, hosted_, options_);
      host_ = &host;
      Result<bool> started = host.start();
      for (const auto& server : host.servers()) ports_[server->name()] = server->port();
      if (started.ok()) {
        host.when_ready([this](bool complete) { if (complete) ready_.set_value(); });
      }
      started_.set_value(started.ok() ? "" : started.error());
      uv_run(&loop_, UV_RUN_DEFAULT);
      host_ = nullptr;
    }
    uv_walk(&loop_, [](uv_handle_t*, void* n) noexcept { ++*static_cast<int*>(n); },
            &handles_left_);
    loop_close_ = uv_loop_close(&loop_);
  }

  Topology topo_;
  std::vector<std::string> hosted_;
  HostOptions options_;
  uv_loop_t loop_;
  uv_async_t stop_;
  HerdHost* host_ = nullptr;
  std::thread thread_;
  std::promise<std::string> started_;
  std::promise<void> ready_;
  std::map<std::string, int> ports_;
  int loop_close_ = -1;
  int handles_left_ = 0;
};

inline HostOptions options_in(const e2e::TempDir& dir) {
  HostOptions options;
  options.log_dir = dir.path() + "/logs/nested";  // Created with its parents.
  options.places.url = "http://127.0.0.1:1/";     // Refused at once: UNKNOWN_ERROR.
  options.places.timeout_ms = 2'000;
  // Flooding alone: the fake peers here speak only hello and FLOOD.
  options.sync.mode = SyncMode::kOff;
  return options;
}

}  // namespace herd
