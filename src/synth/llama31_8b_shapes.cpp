// llama31_8b_shapes.cpp — Llama 3.1 8B as ComfyUI's Llama2 names it (Llama2Config: hidden
// 4096, MLP 14336, 32 query / 8 key-value heads of 128, 32 layers; 128256 tokens, the
// vocabulary comfy/text_encoders/hidream.py sets for a Llama file loaded alone; no lm_head).
#include "synth/model_shapes.hpp"
#include "synth/text_encoder_shapes.hpp"

namespace qfp8 {

std::vector<SynthTensor> llama31_8b_tensors(const SynthConfig& config) {
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  add_language_model(table, config,
                     {128256, 4096, 14336, 32 * 128, 8 * 128, 128,
                      /*qkv_bias=*/false, /*qk_norm=*/false, /*gemma_norms=*/false});
  return tensors;
}

}  // namespace qfp8
