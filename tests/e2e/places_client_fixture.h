// The fixture of the PlacesClient suites (places_client_test.cc,
// places_client_cache_test.cc, places_client_close_test.cc): a real libuv loop, the
// Places stand-in over loopback HTTP, and the client under test. Every wait is
// bounded; Fixture's destructor closes the client and the loop even when a REQUIRE
// has thrown out of the test body. Call it from inside a test case only (it CHECKs).
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <doctest/doctest.h>

#include "net/places_client.h"
#include "tests/e2e/places_standin.h"

namespace herd::e2e::places_client_test {

// So that a test file's `using namespace places_client_test` brings the stand-in too.
using e2e::PlacesStandin;
using e2e::StandinReply;
using e2e::StandinRequest;

inline constexpr char kSecretKey[] = "AIza-secret key/+&=";  // Needs URL-encoding on purpose.
inline constexpr char kBody[] =
    "{\n   \"html_attributions\" : [],\n   \"results\" : [\n      {\n         \"name\" : \"A\"\n"
    "      }\n   ],\n   \"status\" : \"OK\"\n}\n";

inline PlacesQuery query(int bound = 5, int64_t radius_m = 10000, std::string lat = "34.068930") {
  PlacesQuery q;
  q.lat = std::move(lat);
  q.lng = "-118.445127";
  q.radius_m = radius_m;
  q.bound = bound;
  return q;
}

struct Outcome {
  bool done = false;
  PlacesResult result;
  int64_t latency_ms = -1;
};

// A loop, a stand-in and a client; closes all three in order, even when a REQUIRE
// has thrown out of the test body.
class Fixture {
 public:
  Fixture() { uv_loop_init(&loop_); }
  ~Fixture() { finish(); }

  PlacesStandin standin;

  PlacesClient& start(PlacesConfig config) {
    REQUIRE(standin.ok());
    if (config.url.empty()) {
      config.url = standin.url(config.api == PlacesApi::kNew ? PlacesStandin::kNewPath
                                                             : PlacesStandin::kLegacyPath);
    }
    if (config.key.empty()) config.key = kSecretKey;
    client_ = std::make_unique<PlacesClient>(&loop_, std::move(config));
    return *client_;
  }

  PlacesClient& client() { return *client_; }
  // The test closed the client itself and saw its callback: only the loop is left.
  void forget_closed_client() { client_.reset(); }

  // Runs the loop until `pred` holds or `timeout_ms` passes; returns pred().
  bool run_until(const std::function<bool()>& pred, int timeout_ms) {
    uv_timer_t guard;  // Wakes the loop so that the deadline is checked.
    uv_timer_init(&loop_, &guard);
    uv_timer_start(&guard, [](uv_timer_t*) noexcept {}, 5, 5);
    uint64_t deadline = uv_hrtime() + static_cast<uint64_t>(timeout_ms) * 1'000'000;
    while (!pred() && uv_hrtime() < deadline) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);  // Runs the guard's close.
    return pred();
  }

  void run_for(int ms) {
    run_until([] { return false; }, ms);
  }

  std::shared_ptr<Outcome> fetch(const PlacesQuery& q) {
    auto outcome = std::make_shared<Outcome>();
    client_->fetch(q, [outcome](PlacesResult result, int64_t latency_ms) {
      CHECK_FALSE(outcome->done);
      outcome->done = true;
      outcome->result = std::move(result);
      outcome->latency_ms = latency_ms;
    });
    CHECK_FALSE(outcome->done);  // Never from inside fetch().
    return outcome;
  }

  PlacesResult fetch_one(const PlacesQuery& q, int timeout_ms = 5'000) {
    auto outcome = fetch(q);
    REQUIRE(run_until([&] { return outcome->done; }, timeout_ms));
    return outcome->result;
  }

  // Closes the client, then the loop; true when nothing was left open.
  bool finish() {
    if (finished_) return loop_closed_;
    finished_ = true;
    if (client_ != nullptr) {
      bool closed = false;
      client_->close([&] { closed = true; });
      CHECK_FALSE(closed);  // From the loop, never from inside close().
      CHECK(run_until([&] { return closed; }, 3'000));
      if (closed) client_.reset();
    }
    loop_closed_ = uv_loop_close(&loop_) == 0;
    if (!loop_closed_) {
      // Something leaked: close it so that the process can go on to other tests.
      uv_walk(&loop_, [](uv_handle_t* h, void*) noexcept {
        if (uv_is_closing(h) == 0) uv_close(h, nullptr);
      }, nullptr);
      uv_run(&loop_, UV_RUN_DEFAULT);
      uv_loop_close(&loop_);
    }
    return loop_closed_;
  }

 private:
  uv_loop_t loop_;
  std::unique_ptr<PlacesClient> client_;
  bool finished_ = false;
  bool loop_closed_ = false;
};

// A loopback port with nothing listening on it.
inline int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace herd::e2e::places_client_test
