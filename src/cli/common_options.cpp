// common_options.cpp — shared options and parse-error handling for every subcommand.
#include "cli/common_options.hpp"

#include "cli/logging.hpp"
#include "core/cpu_count.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "platform/file_status.hpp"

namespace qfp8::cli {

void add_common_options(cxxopts::Options& options) {
  options.add_options("Common")
      ("h,help", "Show this help")
      ("q,quiet", "Only warnings and errors; no progress")
      ("v,verbose", "Debug logging")
      ("log-format", "Log format: text or json", cxxopts::value<std::string>()->default_value("text"));
}

cxxopts::ParseResult parse_or_throw(cxxopts::Options& options, const std::vector<std::string>& args,
                                    ExtraArguments extra) {
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const auto& arg : args) argv.push_back(arg.c_str());
  try {
    auto result = options.parse(static_cast<int>(argv.size()), argv.data());
    set_up_logging(log_format_from_name(result["log-format"].as<std::string>()),
                   result.count("quiet") > 0, result.count("verbose") > 0);
    if (extra == ExtraArguments::Reject && !result.unmatched().empty()) {
      throw Error(ErrorCode::Usage, "unexpected argument '" + result.unmatched().front() + "'");
    }
    return result;
  } catch (const cxxopts::exceptions::exception& e) {
    throw Error(ErrorCode::Usage, e.what());
  }
}

std::string threads_range_help() {
  return "(0 = automatic: the CPUs this process may use; at most " +
         std::to_string(kMaxThreads) + ")";
}

unsigned threads_option(const cxxopts::ParseResult& result) {
  const unsigned threads = result["threads"].as<unsigned>();
  if (threads > kMaxThreads) {
    throw Error(ErrorCode::Usage, "--threads " + std::to_string(threads) +
                                      " is out of range (0 to " + std::to_string(kMaxThreads) +
                                      ")");
  }
  if (threads == 0) {
    log_debug("--threads 0: automatic, {}", describe_default_threads());
  } else {
    log_debug("--threads {}", threads);
  }
  return threads;
}

bool wants_help(const cxxopts::ParseResult& result) { return result.count("help") > 0; }

void check_not_same_file(const std::string& input, const std::string& output) {
  if (platform::same_file(input, output)) {
    throw Error(ErrorCode::Usage, "cannot write '" + output + "': it is the input file");
  }
}

}  // namespace qfp8::cli
