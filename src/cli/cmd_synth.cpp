// cmd_synth.cpp — the 'synth' subcommand. PLACEHOLDER: being written; not done.
#include "cli/commands.hpp"
#include "core/error.hpp"

namespace qfp8::cli {

int run_synth(const Args&) { throw Error(ErrorCode::Usage, "'synth' is not implemented yet"); }

}  // namespace qfp8::cli
