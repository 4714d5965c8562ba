// pipeline_check.hpp — part (d) of `qfp8-cuda selftest`: the whole conversion pipeline
// (plan, backend, writer) on a small synthetic Qwen-Image checkpoint, compared byte for
// byte with the same conversion on one CPU thread.
#pragma once

#include <string>

#include "backends/backend.hpp"
#include "selftest/selftest_check.hpp"

namespace qfp8::selftest {

/// Writes a synthetic Qwen-Image-shaped BF16 checkpoint (2 blocks at 1/8 width, ~25 MB)
/// into a temporary directory, converts it with `backend` and with a 1-thread CPU backend
/// into memory, and passes when the two output files are identical. The temporary files
/// are removed on every path.
SelftestCheck compare_pipeline(QuantizeBackend& backend, const std::string& label);

}  // namespace qfp8::selftest
