// system_error.cpp (POSIX) — errno as a std::error_code.
#include "platform/system_error.hpp"

#include <cerrno>

namespace qfp8::platform {

std::error_code last_error() { return {errno, std::generic_category()}; }

}  // namespace qfp8::platform
