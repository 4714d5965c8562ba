// cmd_convert.cpp — the 'convert' subcommand. PLACEHOLDER: being written; not done.
#include "cli/commands.hpp"
#include "core/error.hpp"

namespace qfp8::cli {

int run_convert(const Args&) { throw Error(ErrorCode::Usage, "'convert' is not implemented yet"); }

}  // namespace qfp8::cli
