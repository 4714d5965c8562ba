// cmd_inspect.cpp — the 'inspect' subcommand. PLACEHOLDER: being written; not done.
#include "cli/commands.hpp"
#include "core/error.hpp"

namespace qfp8::cli {

int run_inspect(const Args&) { throw Error(ErrorCode::Usage, "'inspect' is not implemented yet"); }

}  // namespace qfp8::cli
