// Compiled with NDEBUG, as a release build would be: HERD_ASSERT must still check.
#define NDEBUG 1
#include "node/check.h"

namespace herd::test {

void assert_false_without_debug() { HERD_ASSERT(1 + 1 == 3); }

}  // namespace herd::test
