// common_options.hpp — options every subcommand takes (logging, help) and the glue that
// turns cxxopts' parse errors into qfp8 usage errors.
#pragma once

#include <cxxopts.hpp>
#include <string>
#include <vector>

namespace qfp8::cli {

/// Adds --help, --quiet, --verbose and --log-format to `options`.
void add_common_options(cxxopts::Options& options);

/// What to do with arguments that no option or declared positional takes.
enum class ExtraArguments {
  Reject,  // Error(Usage) "unexpected argument 'X'": what every subcommand does by default
  Keep,    // left in ParseResult::unmatched() for the caller: convert's and verify's file lists
};

/// Parses `args` (args[0] = program name). Throws Error(Usage) with cxxopts' message on a
/// bad command line, and on a left-over argument unless `extra` is Keep: an ignored
/// argument (`verify A B` checking only A) reads as success for something never done.
/// Sets up logging from the common options.
cxxopts::ParseResult parse_or_throw(cxxopts::Options& options, const std::vector<std::string>& args,
                                    ExtraArguments extra = ExtraArguments::Reject);

/// The help text's range of --threads: "(0 = automatic: the CPUs this process may use; at
/// most 256)".
std::string threads_range_help();

/// The --threads value, 0 = automatic. Throws Error(Usage) above kMaxThreads
/// ("--threads 100000 is out of range (0 to 256)"); logs the thread count at debug level.
unsigned threads_option(const cxxopts::ParseResult& result);

/// True when --help was given; the caller prints options.help() and returns 0.
bool wants_help(const cxxopts::ParseResult& result);

/// Throws Error(Usage) when `output` is the same file as `input`: writing over an input
/// while it is mapped would corrupt what is being read.
void check_not_same_file(const std::string& input, const std::string& output);

}  // namespace qfp8::cli
