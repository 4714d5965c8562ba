// clock.hpp — calendar time in UTC, thread-safe (gmtime_r / gmtime_s).
#pragma once

#include <ctime>

namespace qfp8::platform {

/// Fills `out` with `seconds` as UTC; false when it cannot be represented.
bool utc_time(std::time_t seconds, std::tm& out);

}  // namespace qfp8::platform
