// cmd_verify.cpp — the 'verify' subcommand: parse options, run verify_file() on every file
// given, print the text or JSON report(s) on stdout, write --report atomically.
// Exit 0 when every file passed (warnings allowed), 3 when any could not be read (I/O),
// else 2 when any failed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/logging.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text_format.hpp"
#include "safetensors/byte_sink.hpp"
#include "verify/quality_report.hpp"
#include "verify/verify.hpp"
#include "verify/verify_report.hpp"

namespace qfp8::cli {
namespace {

cxxopts::Options verify_options() {
  cxxopts::Options options("qfp8-cuda verify",
                           "Check quantized checkpoints (float8_e4m3fn, float8_e5m2, mxfp8, "
                           "nvfp4) against the ComfyUI format contract, and with --against "
                           "re-derive one from its source.");
  // No positional option: every positional is a file to verify (ParseResult::unmatched()).
  options.custom_help("[OPTION...] FILE.safetensors...");
  // clang-format off
  options.add_options()
      ("json", "Print one JSON object on stdout instead of text (several files: an array)")
      ("against", "Source checkpoint: re-derive every quantized layer and compare bytes "
                  "(one FILE only)",
       cxxopts::value<std::string>())
      ("report", "Write every layer's quality to FILE.json or FILE.csv (needs --against); "
                 "replaces an existing report, atomically",
       cxxopts::value<std::string>())
      ("threads", "Worker threads for the scans " + threads_range_help(),
       cxxopts::value<unsigned>()->default_value("0"));
  // clang-format on
  add_common_options(options);
  return options;
}

struct VerifyRequest {
  std::vector<std::string> files;
  verify::VerifyOptions options;
  std::string report;  // --report; empty when not asked
  bool json = false;
};

void check_report_option(const VerifyRequest& request) {
  if (request.options.source_path.empty())
    throw Error(ErrorCode::Usage, "--report needs --against SOURCE");
  if (!verify::is_report_path(request.report)) {
    throw Error(ErrorCode::Usage,
                "cannot write report '" + request.report + "': name must end in .json or .csv");
  }
  check_not_same_file(request.files.front(), request.report);
  check_not_same_file(request.options.source_path, request.report);
}

VerifyRequest request_from(const cxxopts::ParseResult& parsed) {
  VerifyRequest request;
  request.files = parsed.unmatched();
  if (request.files.empty())
    throw Error(ErrorCode::Usage, "missing FILE.safetensors (see verify --help)");
  request.json = parsed.count("json") != 0;
  request.options.threads = threads_option(parsed);
  if (parsed.count("against") != 0) {
    request.options.source_path = parsed["against"].as<std::string>();
    if (request.files.size() > 1) {
      throw Error(ErrorCode::Usage, "--against takes one FILE, got " +
                                        std::to_string(request.files.size()) +
                                        " (verify them one at a time)");
    }
  }
  if (parsed.count("report") != 0) {
    request.report = parsed["report"].as<std::string>();
    check_report_option(request);
  }
  return request;
}

void print(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

/// One file, printed exactly as before several were accepted. The report file is opened
/// first (an unwritable place fails before minutes of checking) and committed before the
/// verdict is printed: a report that cannot be written is exit 3 with no [PASS] shown.
int verify_single(const VerifyRequest& request) {
  std::optional<AtomicFileSink> report;
  if (!request.report.empty()) {
    AtomicFileOptions sink_options;
    sink_options.overwrite = true;  // a report is regenerated output: replace, atomically
    report.emplace(request.report, sink_options);
  }
  // Re-deriving from a source reads the whole model (minutes for 40 GB): show progress and
  // close with the same kind of line as convert. Format-only checks take seconds.
  Progress progress(progress_style(), 0, 0);
  verify::VerifyOptions options = request.options;
  if (!options.source_path.empty()) options.progress = &progress;
  const auto start = std::chrono::steady_clock::now();
  const verify::VerifyResult result = verify::verify_file(request.files.front(), options);
  progress.finish();
  if (!options.source_path.empty()) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double gigabytes = static_cast<double>(progress.bytes_done()) / 1e9;
    log_info("re-derived {} layers from '{}': read {} in {:.1f} s ({:.2f} GB/s)",
                 result.quality.size(), options.source_path, size_text(progress.bytes_done()),
                 seconds, seconds > 0 ? gigabytes / seconds : 0.0);
  }
  const std::string text = request.json ? verify::format_json_report(result)
                                        : verify::format_text_report(result);
  if (report) {
    const std::string body = verify::quality_report_text(request.report, result.quality);
    report->write(body.data(), body.size());
    report->commit();
  }
  print(text);
  return result.passed() ? kExitOk : kExitInvalid;
}

/// Several files: each one's report after a "== FILE ==" line (text) or as one element of
/// a JSON array; a file that cannot be read is reported and the next one checked.
int verify_many(const VerifyRequest& request) {
  int worst = kExitOk;
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t unreadable = 0;
  nlohmann::json reports = nlohmann::json::array();
  for (const std::string& path : request.files) {
    if (!request.json) print("== " + printable(path) + " ==\n");
    try {
      const verify::VerifyResult result = verify::verify_file(path, request.options);
      worst = std::max(worst, result.passed() ? kExitOk : kExitInvalid);
      ++(result.passed() ? passed : failed);
      if (request.json) {
        reports.push_back(verify::json_report(result));
      } else {
        print(verify::format_text_report(result));
      }
    } catch (const Error& error) {
      const std::string message = error_message(error);
      log_error("{}", message);
      worst = std::max(worst, exit_code_for(error.code()));
      ++unreadable;
      if (request.json) {
        reports.push_back({{"file", path},
                           {"passed", false},
                           {"error", {{"id", error_code_name(error.code())}, {"message", message}}}});
      } else {
        print("[FAIL] not verified: " + printable(message) + "\n");
      }
    }
  }
  if (request.json) {
    print(verify::json_report_text(reports));
  } else {
    print(std::to_string(request.files.size()) + " files: " + std::to_string(passed) +
          " passed, " + std::to_string(failed) + " failed, " + std::to_string(unreadable) +
          " not readable\n");
  }
  return worst;
}

}  // namespace

int run_verify(const Args& args) {
  cxxopts::Options options = verify_options();
  const auto parsed = parse_or_throw(options, args, ExtraArguments::Keep);
  if (wants_help(parsed)) {
    std::printf("%s\n", options.help().c_str());
    return kExitOk;
  }
  const VerifyRequest request = request_from(parsed);
  return request.files.size() == 1 ? verify_single(request) : verify_many(request);
}

}  // namespace qfp8::cli
