// clock.cpp (POSIX) — gmtime_r.
#include "platform/clock.hpp"

namespace qfp8::platform {

bool utc_time(std::time_t seconds, std::tm& out) { return ::gmtime_r(&seconds, &out) != nullptr; }

}  // namespace qfp8::platform
