// log.hpp — the log calls of every stage: the message is formatted and written in one file
// (core/log.cpp, through spdlog). Why not spdlog's own calls: each of its templated log
// calls cost about 5 s of compile time per file (13 s where spdlog and fmt are header-only:
// the wheel and the Windows build), while fmt's type-erased arguments cost 0.3-1.2 s.
// Where the lines go and how they look (text or JSON) is set up in cli/logging.cpp.
#pragma once

#include <fmt/core.h>

#include <utility>

namespace qfp8 {

enum class LogLevel { Debug, Info, Warn, Error };

/// Whether a message at `level` would be written: for lines that cost something to build.
bool log_enabled(LogLevel level);

/// Formats and writes one message; a message that cannot be formatted is written as its
/// format string (a log line never throws into the work it reports on).
void log_write(LogLevel level, fmt::string_view format, fmt::format_args args);

template <typename... Args>
void log_debug(fmt::format_string<Args...> format, Args&&... args) {
  log_write(LogLevel::Debug, format, fmt::make_format_args(args...));
}
template <typename... Args>
void log_info(fmt::format_string<Args...> format, Args&&... args) {
  log_write(LogLevel::Info, format, fmt::make_format_args(args...));
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> format, Args&&... args) {
  log_write(LogLevel::Warn, format, fmt::make_format_args(args...));
}
template <typename... Args>
void log_error(fmt::format_string<Args...> format, Args&&... args) {
  log_write(LogLevel::Error, format, fmt::make_format_args(args...));
}

}  // namespace qfp8
