// qwen3_4b_shapes.cpp — Qwen3 4B (Z-Image) as ComfyUI's Qwen3_4B names it (Qwen3_4BConfig:
// hidden 2560, MLP 9728, 32 query / 8 key-value heads of 128 with q/k norms, 151936 tokens,
// 36 layers; tied embeddings, so no lm_head).
#include "synth/model_shapes.hpp"
#include "synth/text_encoder_shapes.hpp"

namespace qfp8 {

std::vector<SynthTensor> qwen3_4b_tensors(const SynthConfig& config) {
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  add_language_model(table, config,
                     {151936, 2560, 9728, 32 * 128, 8 * 128, 128,
                      /*qkv_bias=*/false, /*qk_norm=*/true, /*gemma_norms=*/false});
  return tensors;
}

}  // namespace qfp8
