// log.cpp — the one file that formats log messages and hands them to spdlog (core/log.hpp
// says why).
#include "core/log.hpp"

#include <spdlog/spdlog.h>

#include <string>

namespace qfp8 {
namespace {

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return spdlog::level::debug;
    case LogLevel::Info: return spdlog::level::info;
    case LogLevel::Warn: return spdlog::level::warn;
    case LogLevel::Error: return spdlog::level::err;
  }
  return spdlog::level::err;
}

}  // namespace

bool log_enabled(LogLevel level) { return spdlog::should_log(spdlog_level(level)); }

void log_write(LogLevel level, fmt::string_view format, fmt::format_args args) {
  const spdlog::level::level_enum to = spdlog_level(level);
  if (!spdlog::should_log(to)) return;
  std::string message;
  try {
    message = fmt::vformat(format, args);
  } catch (const fmt::format_error&) {
    message.assign(format.data(), format.size());
  }
  spdlog::log(to, spdlog::string_view_t(message.data(), message.size()));
}

}  // namespace qfp8
