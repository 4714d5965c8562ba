// system_error.hpp — how the platform layer reports a failed system call: a std::error_code
// holding errno (POSIX, generic_category: message() is strerror's text) or GetLastError()
// (Windows, a category whose message() is FormatMessage's text and which compares equal to
// the std::errc values the callers test: no_such_file_or_directory, file_exists, ...).
#pragma once

#include <system_error>

namespace qfp8::platform {

/// The error of the system call that just failed (errno, or GetLastError()).
std::error_code last_error();

}  // namespace qfp8::platform
