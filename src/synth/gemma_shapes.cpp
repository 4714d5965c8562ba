// gemma_shapes.cpp — Gemma 2 2B (Lumina 2) as ComfyUI's Gemma2_2B names it (Gemma2_2B_Config:
// hidden 2304, MLP 9216, 8 query / 4 key-value heads of 256, 256000 tokens, 26 layers, four
// norms per layer; tied embeddings, so no lm_head).
#include "synth/model_shapes.hpp"
#include "synth/text_encoder_shapes.hpp"

namespace qfp8 {

std::vector<SynthTensor> gemma_tensors(const SynthConfig& config) {
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  add_language_model(table, config,
                     {256000, 2304, 9216, 8 * 256, 4 * 256, 256,
                      /*qkv_bias=*/false, /*qk_norm=*/false, /*gemma_norms=*/true});
  return tensors;
}

}  // namespace qfp8
