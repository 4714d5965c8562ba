// logging.hpp — spdlog set-up: human text on stderr by default, one JSON object per line
// with --log-format json.
#pragma once

#include <string>

#include "cli/progress.hpp"

namespace qfp8::cli {

enum class LogFormat { Text, Json };

/// Throws Error(Usage) for an unknown format name.
LogFormat log_format_from_name(const std::string& name);

/// quiet: warnings and errors only; verbose: debug.
void set_up_logging(LogFormat format, bool quiet, bool verbose);

/// Set by set_up_logging; progress output is suppressed in JSON mode and when quiet.
bool logging_is_json();
bool logging_is_quiet();

/// The progress display the logging options ask for: none when quiet or logging JSON, a
/// redrawn bar when stderr is a terminal, periodic lines otherwise.
ProgressStyle progress_style();

}  // namespace qfp8::cli
