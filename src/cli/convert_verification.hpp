// convert_verification.hpp — convert --verify: the output stage that runs `verify
// --against` the input on the finished temporary file before it may appear, and the one
// line it logs. The CLI puts it into the output chain; the pipeline only sees a ByteSink.
#pragma once

#include "convert/pipeline.hpp"
#include "input/tensor_source.hpp"

namespace qfp8::cli {

/// The stage for `input` (kept alive by the caller while the conversion runs). A sharded
/// input is verified against the format rules only: verify re-derives from one file.
OutputStage verifying_stage(const TensorSource& input, unsigned threads);

}  // namespace qfp8::cli
