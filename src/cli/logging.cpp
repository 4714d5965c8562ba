// logging.cpp — spdlog sinks and formatters for the two log formats.
#include "cli/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/error.hpp"
#include "core/text_format.hpp"
#include "platform/clock.hpp"
#include "platform/process.hpp"

namespace qfp8::cli {
namespace {

bool g_json = false;
bool g_quiet = false;

/// Appends `text` as a JSON string body: messages carry tensor names from untrusted files,
/// so quotes, backslashes and control characters must be escaped for the line to parse.
void append_json_escaped(spdlog::memory_buf_t& out, spdlog::string_view_t text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out.append(escaped, escaped + 6);
    } else {
      out.push_back(c);
    }
  }
}

/// One JSON object per line: {"time": ISO-8601 UTC, "level": ..., "msg": ...}.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(msg.time);
    std::tm utc{};
    platform::utc_time(seconds, utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
    dest.append(spdlog::string_view_t("{\"time\":\""));
    dest.append(spdlog::string_view_t(stamp));
    dest.append(spdlog::string_view_t("\",\"level\":\""));
    dest.append(level);
    dest.append(spdlog::string_view_t("\",\"msg\":\""));
    append_json_escaped(dest, msg.payload);
    dest.append(spdlog::string_view_t("\"}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

/// "level: message" with the message made printable(): errors, warnings and -v lines quote
/// tensor, metadata and file names from untrusted input, and a raw ESC, CR or LF in one
/// could rewrite the screen or forge a line such as "[PASS] 99 layers verified". Our own
/// messages are single lines, so escaping the whole message loses nothing.
class TextLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string text = printable(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg escaped = msg;
    escaped.payload = spdlog::string_view_t(text.data(), text.size());
    pattern_.format(escaped, dest);
    // The colour sink reads the level's colour range back from the message it passed in.
    msg.color_range_start = escaped.color_range_start;
    msg.color_range_end = escaped.color_range_end;
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextLineFormatter>();
  }

 private:
  spdlog::pattern_formatter pattern_{"%^%l%$: %v"};
};

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
  auto logger = spdlog::get("qfp8");
  if (!logger) logger = spdlog::stderr_color_mt("qfp8");
  spdlog::set_default_logger(logger);
  if (g_json) {
    logger->set_formatter(std::make_unique<JsonLineFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextLineFormatter>());
  }
  logger->set_level(quiet ? spdlog::level::warn
                          : (verbose ? spdlog::level::debug : spdlog::level::info));
}

bool logging_is_json() { return g_json; }
bool logging_is_quiet() { return g_quiet; }

ProgressStyle progress_style() {
  return progress_style_for(g_quiet, g_json, platform::stderr_is_terminal());
}

}  // namespace qfp8::cli
