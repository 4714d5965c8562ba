// cmd_verify.cpp — the 'verify' subcommand. PLACEHOLDER: being written; not done.
#include "cli/commands.hpp"
#include "core/error.hpp"

namespace qfp8::cli {

int run_verify(const Args&) { throw Error(ErrorCode::Usage, "'verify' is not implemented yet"); }

}  // namespace qfp8::cli
