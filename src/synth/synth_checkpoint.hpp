// synth_checkpoint.hpp — streams a synthetic BF16 checkpoint of any synth_models() model into a
// ByteSink, chunk by chunk, in constant memory (the full-size model is ~40.9 GB).
#pragma once

#include <cstdint>
#include <vector>

#include "core/progress_meter.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/layout.hpp"
#include "synth/synth_tensor.hpp"

namespace qfp8 {

struct SynthSummary {
  std::size_t tensors = 0;
  uint64_t parameters = 0;
  uint64_t file_size = 0;
};

/// The output layout: every tensor BF16, `__metadata__` {"format": "pt"} as diffusers writes.
SafetensorsLayout synth_layout(const std::vector<SynthTensor>& tensors);

/// What write_synth_checkpoint will write, known before a byte is (a progress display's totals).
SynthSummary synth_summary(const SynthConfig& config);

/// Generates and writes the whole checkpoint, then commits the sink. `progress` (may be null)
/// is told each tensor's bytes as it is written.
SynthSummary write_synth_checkpoint(const SynthConfig& config, ByteSink& sink,
                                    ProgressMeter* progress = nullptr);

}  // namespace qfp8
