// mistral_small_3_shapes.cpp — Mistral Small 3.x 24B (Flux.2) as ComfyUI's Mistral3Small24B
// names it (Mistral3Small24BConfig: hidden 5120, MLP 32768, 32 query / 8 key-value heads of
// 128, 131072 tokens, 40 layers and a final norm; no lm_head).
#include "synth/model_shapes.hpp"
#include "synth/text_encoder_shapes.hpp"

namespace qfp8 {

std::vector<SynthTensor> mistral_small_3_tensors(const SynthConfig& config) {
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  add_language_model(table, config,
                     {131072, 5120, 32768, 32 * 128, 8 * 128, 128,
                      /*qkv_bias=*/false, /*qk_norm=*/false, /*gemma_norms=*/false});
  return tensors;
}

}  // namespace qfp8
