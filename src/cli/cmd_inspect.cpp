// cmd_inspect.cpp — the 'inspect' subcommand: validate a safetensors file and print its
// summary (text, or one JSON object with --json). Only wiring lives here; the summary is
// src/inspect/. An invalid file is reported through the thrown Error (exit 2).
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "core/error.hpp"
#include "inspect/inspect_summary.hpp"
#include "safetensors/reader.hpp"

namespace qfp8::cli {

int run_inspect(const Args& args) {
  cxxopts::Options options("qfp8-cuda inspect",
                           "Validate a safetensors file and summarize it: sizes, dtypes, "
                           "metadata and ComfyUI FP8 markers");
  add_common_options(options);
  options.add_options("Inspect")
      ("json", "Print one JSON object (metadata values in full) instead of text")
      ("tensors", "List every tensor: name, dtype, shape, bytes")
      ("file", "The safetensors file", cxxopts::value<std::string>());
  options.parse_positional({"file"});
  options.positional_help("FILE");
  const auto result = parse_or_throw(options, args);
  if (wants_help(result)) {
    std::cout << options.help() << '\n';
    return kExitOk;
  }
  if (result.count("file") == 0) {
    throw Error(ErrorCode::Usage, "missing FILE (see qfp8-cuda inspect --help)");
  }
  const SafetensorsFile file(result["file"].as<std::string>());
  const InspectSummary summary = summarize(file);
  const bool with_tensors = result.count("tensors") > 0;
  if (result.count("json") > 0) {
    // replace: a JSON report must never throw on a byte sequence; headers are valid UTF-8.
    std::cout << summary_to_json(summary, with_tensors)
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
  } else {
    std::cout << summary_to_text(summary, with_tensors);
  }
  std::cout.flush();
  if (!std::cout) throw Error(ErrorCode::WriteFailed, "cannot write the report to stdout");
  return kExitOk;
}

}  // namespace qfp8::cli
