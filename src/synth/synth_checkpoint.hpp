// synth_checkpoint.hpp — streams a synthetic Qwen-Image-shaped BF16 checkpoint into a
// ByteSink, chunk by chunk, in constant memory (the full-size model is ~40.9 GB).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "safetensors/byte_sink.hpp"
#include "safetensors/layout.hpp"
#include "synth/qwen_image_shapes.hpp"

namespace qfp8 {

struct SynthSummary {
  std::size_t tensors = 0;
  uint64_t parameters = 0;
  uint64_t file_size = 0;
};

/// The output layout: every tensor BF16, `__metadata__` {"format": "pt"} as diffusers writes.
SafetensorsLayout synth_layout(const std::vector<SynthTensor>& tensors);

/// Called after each tensor with (tensors done, total).
using SynthProgress = std::function<void(std::size_t, std::size_t)>;

/// Generates and writes the whole checkpoint, then commits the sink.
SynthSummary write_synth_checkpoint(const SynthConfig& config, ByteSink& sink,
                                    const SynthProgress& progress = {});

}  // namespace qfp8
