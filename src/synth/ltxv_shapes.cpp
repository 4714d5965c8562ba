// ltxv_shapes.cpp — LTX-Video 13B (0.9.7 / 0.9.8) in ComfyUI's names
// (comfy/ldm/lightricks/model.py LTXVModel): 48 blocks of width 4096 (32 heads x 128), T5-XXL
// text (4096). The 2B models (0.9.0 to 0.9.6) differ in width (2048, heads of 64) and depth (28).
#include "synth/ltx_layers.hpp"
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kInner = 4096;     // 32 heads x 128: ComfyUI reads head dim = width / 32
constexpr uint64_t kCaption = 4096;   // T5-XXL hidden states

void add_block(SynthTable& table, unsigned index, uint64_t inner) {
  const std::string block = "transformer_blocks." + std::to_string(index) + ".";
  ltx::attention(table, block + "attn1", inner, inner, inner);
  // cross_attention_dim = width: the caption projection already maps T5 to it.
  ltx::attention(table, block + "attn2", inner, inner, inner);
  ltx::feed_forward(table, block + "ff", inner);
  ltx::scale_shift_table(table, block + "scale_shift_table", 6, inner);
}

}  // namespace

std::vector<SynthTensor> ltxv_tensors(const SynthConfig& config) {
  const uint64_t inner = kInner / config.width_div;

  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.linear("patchify_proj", inner, ltx::kLatent);
  ltx::adaln_single(table, "adaln_single", inner, 6);
  ltx::caption_projection(table, "caption_projection", inner, kCaption / config.width_div);
  for (unsigned block = 0; block < config.blocks; ++block) add_block(table, block, inner);
  ltx::scale_shift_table(table, "scale_shift_table", 2, inner);
  table.linear("proj_out", ltx::kLatent, inner);
  return tensors;
}

}  // namespace qfp8
