// cmd_selftest.cpp — the 'selftest' subcommand. PLACEHOLDER: being written; not done.
#include "cli/commands.hpp"
#include "core/error.hpp"

namespace qfp8::cli {

int run_selftest(const Args&) { throw Error(ErrorCode::Usage, "'selftest' is not implemented yet"); }

}  // namespace qfp8::cli
