// A first-in first-out queue in one vector. An empty Fifo owns no memory (a
// std::deque allocates about 600 bytes when it is made, and a simulated herd of
// 100,000 servers holds a million queues, nearly all empty); the space of popped
// items is given back to the vector when the queue empties or half of it is popped,
// so each item is moved at most twice (amortised O(1) per push and pop).
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

#include "node/check.h"

namespace herd {

template <typename T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  T& front() {
    HERD_ASSERT(!empty());
    return items_[head_];
  }
  const T& front() const {
    HERD_ASSERT(!empty());
    return items_[head_];
  }
  void push_back(T item) { items_.push_back(std::move(item)); }
  void pop_front() {
    HERD_ASSERT(!empty());
    items_[head_] = T();  // A popped string frees its bytes now.
    if (++head_ == items_.size()) {
      clear();
    } else if (head_ >= kCompactAt && 2 * head_ >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void clear() {  // Keeps a small array for reuse, gives a large one back.
    if (items_.capacity() * sizeof(T) > kKeepBytes) {
      std::vector<T>().swap(items_);
    } else {
      items_.clear();
    }
    head_ = 0;
  }
  // Heap bytes held by the queue's array (its items' own heap blocks not included).
  size_t capacity_bytes() const { return items_.capacity() * sizeof(T); }

  auto begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() const { return items_.end(); }

 private:
  static constexpr size_t kCompactAt = 32;
  static constexpr size_t kKeepBytes = 4096;
  std::vector<T> items_;
  size_t head_ = 0;
};

}  // namespace herd
