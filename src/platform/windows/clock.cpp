// clock.cpp (Windows) — gmtime_s (the C runtime's, with its arguments the other way round
// from C11's).
#include "platform/clock.hpp"

namespace qfp8::platform {

bool utc_time(std::time_t seconds, std::tm& out) { return gmtime_s(&out, &seconds) == 0; }

}  // namespace qfp8::platform
