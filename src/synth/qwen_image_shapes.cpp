// qwen_image_shapes.cpp — builds the Qwen-Image tensor table of docs/format.md#qwen-image for a
// given number of blocks and width divisor. Every Linear has a weight [out, in] and a bias [out].
#include <algorithm>

#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

// Full-size widths (docs/format.md#qwen-image).
constexpr uint64_t kHidden = 3072;      // transformer width
constexpr uint64_t kTextWidth = 3584;   // Qwen2.5-VL text encoder width (txt_in, txt_norm)
constexpr uint64_t kHeadDim = 128;      // per-head width of the q/k RMSNorms
constexpr uint64_t kMinHeadDim = 8;     // narrower models keep a usable norm
constexpr uint64_t kLatentPatch = 64;   // 16 latent channels x 2x2 patch: not narrowed
constexpr uint64_t kTimestepDim = 256;  // sinusoidal timestep embedding: not narrowed

void add_block(SynthTable& table, unsigned index, bool last, uint64_t hidden, uint64_t head_dim) {
  const std::string block = "transformer_blocks." + std::to_string(index) + ".";
  for (const char* name : {"to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj",
                           "to_out.0", "to_add_out"}) {
    table.linear(block + "attn." + name, hidden, hidden);
  }
  for (const char* name : {"norm_q", "norm_k", "norm_added_q", "norm_added_k"}) {
    table.norm(block + "attn." + name, head_dim);
  }
  table.linear(block + "img_mod.1", 6 * hidden, hidden);
  table.linear(block + "txt_mod.1", 6 * hidden, hidden);
  table.linear(block + "img_mlp.net.0.proj", 4 * hidden, hidden);
  table.linear(block + "img_mlp.net.2", hidden, 4 * hidden);
  table.linear(block + "txt_mlp.net.0.proj", 4 * hidden, hidden);
  // The text stream is not read after the last block, so its final MLP output may as well
  // be zero: this gives every synthetic model an all-zero weight (scale 1.0 path) and bias.
  table.linear(block + "txt_mlp.net.2", hidden, 4 * hidden, /*bias=*/true, /*zero=*/last);
}

}  // namespace

std::vector<SynthTensor> qwen_image_tensors(const SynthConfig& config) {
  const uint64_t div = config.width_div;
  const uint64_t hidden = kHidden / div;
  const uint64_t head_dim = std::max(kHeadDim / div, kMinHeadDim);

  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.linear("img_in", hidden, kLatentPatch);
  table.linear("txt_in", hidden, kTextWidth / div);
  table.norm("txt_norm", kTextWidth / div);
  table.linear("time_text_embed.timestep_embedder.linear_1", hidden, kTimestepDim);
  table.linear("time_text_embed.timestep_embedder.linear_2", hidden, hidden);
  for (unsigned block = 0; block < config.blocks; ++block) {
    add_block(table, block, block + 1 == config.blocks, hidden, head_dim);
  }
  table.linear("norm_out.linear", 2 * hidden, hidden);
  table.linear("proj_out", kLatentPatch, hidden);
  return tensors;
}

}  // namespace qfp8
