// t5xxl_shapes.cpp — T5 v1.1 XXL encoder as ComfyUI's T5 class names it (t5_config_xxl.json:
// d_model 4096, d_ff 10240, 64 heads, 24 blocks, 32128 tokens; relative bias in block 0 only).
#include "synth/model_shapes.hpp"
#include "synth/text_encoder_shapes.hpp"

namespace qfp8 {

std::vector<SynthTensor> t5xxl_tensors(const SynthConfig& config) {
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  add_t5_encoder(table, config, {32128, 4096, 10240, /*bias_every_block=*/false});
  return tensors;
}

}  // namespace qfp8
