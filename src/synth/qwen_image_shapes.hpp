// qwen_image_shapes.hpp — the tensor names and shapes of a Qwen-Image transformer
// (docs/format.md#qwen-image), optionally narrowed and shortened, for synthetic checkpoints: what
// `qfp8-cuda synth` writes, before any value is generated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qfp8 {

struct SynthConfig {
  unsigned blocks = 60;     // transformer_blocks.0 .. blocks-1 (Qwen-Image has 60)
  unsigned width_div = 1;   // divides the model widths (3072, 3584, 128); a power of two <= 512
  bool prefix = false;      // names start with "model.diffusion_model." (full checkpoints)
  uint64_t seed = 0;
};

/// What a tensor's values look like; decides the distribution in synth_values.
enum class SynthKind {
  LinearWeight,  // N(0, 0.02) with rare large outliers and a few BF16 subnormals
  Bias,          // N(0, 0.002) with a few subnormals
  NormWeight,    // RMSNorm gain around 1.0
  Zero,          // all zeros (a layer whose output is never used)
};

struct SynthTensor {
  std::string name;       // as written, prefix included
  std::string base_name;  // without the prefix: seeds the values, so --prefix keeps them
  std::vector<uint64_t> shape;
  SynthKind kind = SynthKind::LinearWeight;

  uint64_t numel() const;
};

inline constexpr const char* kDiffusionModelPrefix = "model.diffusion_model.";

/// Throws Error(Usage) for blocks == 0 or a width_div that does not divide 512.
void validate_synth_config(const SynthConfig& config);

/// Every tensor of the (scaled) Qwen-Image transformer, in no particular order.
std::vector<SynthTensor> qwen_image_tensors(const SynthConfig& config);

}  // namespace qfp8
