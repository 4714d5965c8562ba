// convert_json.hpp — `convert --json`: one JSON object on stdout that says what a single
// conversion did (or, with --dry-run, would do), for programs that run the tool (the Python
// API in python/qfp8 reads it). The text logs stay on stderr.
#pragma once

#include <string>

#include "convert/pipeline.hpp"

namespace qfp8::cli {

struct ConvertReport {
  std::string input;
  std::string output;  // empty for a dry run without one
  bool dry_run = false;
  bool verified = false;  // --verify: checked against the input before it appeared
  ConvertSummary summary;
};

/// One line: {"input", "output", "dry_run", "verified", "quantized", "kept", "input_bytes",
/// "output_bytes", "seconds", "backend"} (output null when not given; backend "" in a dry run).
std::string convert_json_text(const ConvertReport& report);

}  // namespace qfp8::cli
