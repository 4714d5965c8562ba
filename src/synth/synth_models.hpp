// synth_models.hpp — the models `qfp8-cuda synth --model NAME` can write: per model its full
// depth, how far its widths may be divided, and its shape table (model_shapes.hpp).
#pragma once

#include <string>
#include <vector>

#include "synth/synth_tensor.hpp"

namespace qfp8 {

struct SynthModel {
  const char* name;          // the --model value; the same as the model's --preset family
  const char* description;   // what it copies, for --help and messages
  unsigned full_blocks;      // the published model's depth (the default of --blocks)
  unsigned max_width_div;    // the largest power of two that keeps every width integral
  bool diffusion_model;      // --prefix applies (text encoders are loaded by their own names)
  std::vector<SynthTensor> (*tensors)(const SynthConfig&);
};

const std::vector<SynthModel>& synth_models();

/// "qwen-image, flux1, ...".
std::string synth_model_names();

/// Throws Error(Usage) for an unknown model, more blocks than 10000, a width_div that is not a
/// power of two up to the model's limit, or --prefix on a text encoder.
void validate_synth_config(const SynthConfig& config);

/// Every tensor of the configured model (blocks 0: its full depth), in no particular order.
std::vector<SynthTensor> synth_tensors(const SynthConfig& config);

}  // namespace qfp8
