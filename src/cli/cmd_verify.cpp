// cmd_verify.cpp — the 'verify' subcommand: parse options, run verify_file(), print the
// text or JSON report on stdout, write --report. Exit 0 pass (warnings allowed), 2 fail.
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "core/error.hpp"
#include "verify/quality_report.hpp"
#include "verify/verify.hpp"
#include "verify/verify_report.hpp"

namespace qfp8::cli {
namespace {

cxxopts::Options verify_options() {
  cxxopts::Options options("qfp8-cuda verify",
                           "Check an FP8 E4M3FN scaled checkpoint against the ComfyUI format "
                           "contract, and with --against re-derive it from its source.");
  options.positional_help("OUT.safetensors");
  // clang-format off
  options.add_options()
      ("file", "The FP8 checkpoint to verify", cxxopts::value<std::string>())
      ("json", "Print one JSON object on stdout instead of text")
      ("against", "Source checkpoint: re-derive every quantized layer and compare bytes",
       cxxopts::value<std::string>())
      ("report", "Write every layer's quality to FILE.json or FILE.csv (needs --against)",
       cxxopts::value<std::string>())
      ("threads", "Worker threads for the scans " + threads_range_help(),
       cxxopts::value<unsigned>()->default_value("0"));
  // clang-format on
  options.parse_positional({"file"});
  add_common_options(options);
  return options;
}

}  // namespace

int run_verify(const Args& args) {
  cxxopts::Options options = verify_options();
  const auto parsed = parse_or_throw(options, args);
  if (wants_help(parsed)) {
    std::printf("%s\n", options.help().c_str());
    return kExitOk;
  }
  if (parsed.count("file") == 0)
    throw Error(ErrorCode::Usage, "missing OUT.safetensors (see verify --help)");
  verify::VerifyOptions verify_options;
  verify_options.threads = threads_option(parsed);
  if (parsed.count("against") != 0)
    verify_options.source_path = parsed["against"].as<std::string>();
  std::string report;
  if (parsed.count("report") != 0) {
    report = parsed["report"].as<std::string>();
    if (verify_options.source_path.empty())
      throw Error(ErrorCode::Usage, "--report needs --against SOURCE");
    if (!verify::is_report_path(report)) {
      throw Error(ErrorCode::Usage,
                  "cannot write report '" + report + "': name must end in .json or .csv");
    }
  }
  const verify::VerifyResult result =
      verify::verify_file(parsed["file"].as<std::string>(), verify_options);
  const std::string text = parsed.count("json") != 0 ? verify::format_json_report(result)
                                                     : verify::format_text_report(result);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  if (!report.empty()) verify::write_quality_report(report, result.quality);
  return result.passed() ? kExitOk : kExitInvalid;
}

}  // namespace qfp8::cli
