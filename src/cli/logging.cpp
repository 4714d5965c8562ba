// logging.cpp — spdlog sinks and patterns for the two log formats.
#include "cli/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/error.hpp"

namespace qfp8::cli {
namespace {
bool g_json = false;
bool g_quiet = false;
}  // namespace

LogFormat log_format_from_name(const std::string& name) {
  if (name == "text") return LogFormat::Text;
  if (name == "json") return LogFormat::Json;
  throw Error(ErrorCode::Usage, "unknown --log-format '" + name + "' (expected text or json)");
}

void set_up_logging(LogFormat format, bool quiet, bool verbose) {
  g_json = format == LogFormat::Json;
  g_quiet = quiet;
  // Logs go to stderr so that stdout carries only results (inspect/verify --json).
  auto logger = spdlog::stderr_color_mt("qfp8");
  spdlog::set_default_logger(logger);
  if (g_json) {
    // %v is escaped by the caller's message content only loosely; messages never contain
    // raw quotes from untrusted input unescaped because names are quoted with ''.
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%v"})");
  } else {
    spdlog::set_pattern("%^%l%$: %v");
  }
  spdlog::set_level(quiet ? spdlog::level::warn
                          : (verbose ? spdlog::level::debug : spdlog::level::info));
}

bool logging_is_json() { return g_json; }
bool logging_is_quiet() { return g_quiet; }

}  // namespace qfp8::cli
