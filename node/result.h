// Errors that can happen (bad input, a peer down, an HTTP failure) are values, not
// exceptions: a Result holds either a value or an error message for a person.
#pragma once
#include <string>
#include <utility>
#include <variant>

#include "node/check.h"

namespace herd {

struct Error {
  std::string message;  // Complete and readable: "topo.json: line 3: nodes[1].port: ..."
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design.
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit by design.
  bool ok() const { return v_.index() == 0; }
  T& value() { HERD_ASSERT(ok()); return std::get<0>(v_); }
  const T& value() const { HERD_ASSERT(ok()); return std::get<0>(v_); }
  const std::string& error() const { HERD_ASSERT(!ok()); return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

}  // namespace herd
