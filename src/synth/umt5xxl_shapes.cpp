// umt5xxl_shapes.cpp — UMT5-XXL encoder (Wan) as ComfyUI's T5 class names it
// (umt5_config_xxl.json: the T5-XXL widths, 256384 tokens, a relative bias in every block).
#include "synth/model_shapes.hpp"
#include "synth/text_encoder_shapes.hpp"

namespace qfp8 {

std::vector<SynthTensor> umt5xxl_tensors(const SynthConfig& config) {
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  add_t5_encoder(table, config, {256384, 4096, 10240, /*bias_every_block=*/true});
  return tensors;
}

}  // namespace qfp8
