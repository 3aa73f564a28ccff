#include "node/fifo.h"

#include <doctest/doctest.h>

#include <deque>
#include <string>

#include "node/rng.h"

namespace herd {

TEST_CASE("fifo: an empty queue owns nothing; items come out in the order they went in") {
  Fifo<std::string> q;
  CHECK(q.empty());
  CHECK(q.capacity_bytes() == 0);
  q.push_back("a");
  q.push_back("b");
  CHECK(q.size() == 2);
  CHECK(q.front() == "a");
  q.pop_front();
  CHECK(q.front() == "b");
  q.pop_front();
  CHECK(q.empty());
}

TEST_CASE("fifo: against std::deque over a random mix of pushes and pops; a large array is given back") {
  Fifo<int> q;
  std::deque<int> model;
  Rng rng(42);
  int next = 0;
  for (int step = 0; step < 200000; ++step) {
    // Phases that grow the queue to thousands of items, then drain it.
    const bool grow = (step / 5000) % 2 == 0;
    if (model.empty() || rng.uniform_u64(0, 9) < (grow ? 7u : 3u)) {
      q.push_back(next);
      model.push_back(next++);
    } else {
      REQUIRE(q.front() == model.front());
      q.pop_front();
      model.pop_front();
    }
    REQUIRE(q.size() == model.size());
    REQUIRE(q.empty() == model.empty());
  }
  std::deque<int> rest(q.begin(), q.end());
  CHECK(rest == model);
  while (!q.empty()) q.pop_front();
  CHECK(q.capacity_bytes() <= 4096);
}

}  // namespace herd
