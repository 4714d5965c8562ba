// commands.hpp — one entry point per subcommand. Each takes the arguments after the
// subcommand name (argv[0] is the program), returns an exit code and throws qfp8::Error
// for failures, which main() reports and maps to exit codes.
#pragma once

#include <string>
#include <vector>

namespace qfp8::cli {

using Args = std::vector<std::string>;

int run_convert(const Args& args);
int run_verify(const Args& args);
int run_inspect(const Args& args);
int run_synth(const Args& args);
int run_selftest(const Args& args);
int run_dequantize(const Args& args);

}  // namespace qfp8::cli
