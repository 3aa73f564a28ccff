// The herd's version, printed by `herd --version`; the one place it is written.
#pragma once

namespace herd {

inline constexpr char kHerdVersion[] = "0.2.0";

}  // namespace herd
