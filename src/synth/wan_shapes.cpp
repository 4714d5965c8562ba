// wan_shapes.cpp — Wan 2.1 14B text-to-video in ComfyUI's names (comfy/ldm/wan/model.py
// WanModel, model_type t2v): 40 blocks of width 5120. Wan 2.2's 14B models have the same
// tensors; the 1.3B differs only in widths (1536, ffn 8960, 12 heads) and depth (30).
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kDim = 5120;         // transformer width (40 heads x 128)
constexpr uint64_t kFfnDim = 13824;     // feed-forward width
constexpr uint64_t kTextDim = 4096;     // umT5-XXL hidden states
constexpr uint64_t kLatent = 16;        // Wan 2.1 VAE latent channels: not narrowed
constexpr uint64_t kFreqDim = 256;      // sinusoidal timestep embedding: not narrowed
constexpr uint64_t kPatchOut = 16 * 4;  // head: 16 channels x 1x2x2 patch

void add_attention(SynthTable& table, const std::string& prefix, uint64_t dim) {
  for (const char* name : {"q", "k", "v", "o"}) table.linear(prefix + name, dim, dim);
  table.norm(prefix + "norm_q", dim);
  table.norm(prefix + "norm_k", dim);
}

void add_block(SynthTable& table, unsigned index, uint64_t dim, uint64_t ffn) {
  const std::string block = "blocks." + std::to_string(index) + ".";
  add_attention(table, block + "self_attn.", dim);
  // cross_attn_norm: a LayerNorm with weight and bias before the cross-attention.
  table.norm(block + "norm3", dim);
  table.tensor(block + "norm3.bias", {dim}, SynthKind::Bias);
  add_attention(table, block + "cross_attn.", dim);
  table.linear(block + "ffn.0", ffn, dim);
  table.linear(block + "ffn.2", dim, ffn);
  table.tensor(block + "modulation", {1, 6, dim}, SynthKind::LinearWeight);
}

}  // namespace

std::vector<SynthTensor> wan_tensors(const SynthConfig& config) {
  const uint64_t div = config.width_div;
  const uint64_t dim = kDim / div;
  const uint64_t ffn = kFfnDim / div;

  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  // Conv3d, kernel and stride 1x2x2: 5-D, kept by every rule.
  table.tensor("patch_embedding.weight", {dim, kLatent, 1, 2, 2}, SynthKind::LinearWeight);
  table.tensor("patch_embedding.bias", {dim}, SynthKind::Bias);
  table.linear("text_embedding.0", dim, kTextDim / div);
  table.linear("text_embedding.2", dim, dim);
  table.linear("time_embedding.0", dim, kFreqDim);
  table.linear("time_embedding.2", dim, dim);
  table.linear("time_projection.1", 6 * dim, dim);
  for (unsigned block = 0; block < config.blocks; ++block) add_block(table, block, dim, ffn);
  table.linear("head.head", kPatchOut, dim);
  table.tensor("head.modulation", {1, 2, dim}, SynthKind::LinearWeight);
  return tensors;
}

}  // namespace qfp8
