// hunyuan_video_shapes.cpp — HunyuanVideo 1.0 text-to-video in ComfyUI's names
// (comfy/ldm/hunyuan_video/model.py): width 3072 (24 heads), 20 double-stream and 40
// single-stream blocks, guidance embedder. `blocks` counts the double blocks; the single
// blocks are twice as many, as in the published model.
#include "synth/hunyuan_layers.hpp"
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kHidden = 3072;
constexpr uint64_t kTextDim = 4096;   // LLaVA-Llama-3-8B hidden states
constexpr uint64_t kClipDim = 768;    // pooled CLIP-L (vector_in)
constexpr uint64_t kLatent = 16;      // HunyuanVideo VAE latent channels: not narrowed
constexpr uint64_t kPatchOut = 16 * 4;  // 16 channels x 1x2x2 patch

void single_block(SynthTable& table, unsigned index, uint64_t hidden, uint64_t head) {
  const std::string block = "single_blocks." + std::to_string(index) + ".";
  // linear1: q, k, v and the MLP input (3 + 4 widths); linear2: attention + MLP output.
  table.linear(block + "linear1", 7 * hidden, hidden);
  table.linear(block + "linear2", hidden, 5 * hidden);
  table.norm(block + "norm.query_norm", head, ".scale");
  table.norm(block + "norm.key_norm", head, ".scale");
  table.linear(block + "modulation.lin", 3 * hidden, hidden);
}

}  // namespace

std::vector<SynthTensor> hunyuan_video_tensors(const SynthConfig& config) {
  const uint64_t hidden = kHidden / config.width_div;
  const uint64_t head = hunyuan::head_dim(config.width_div);

  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  // PatchEmbed: Conv3d, kernel and stride 1x2x2 (ComfyUI reads in_channels and the patch
  // size from this shape).
  table.tensor("img_in.proj.weight", {hidden, kLatent, 1, 2, 2}, SynthKind::LinearWeight);
  table.tensor("img_in.proj.bias", {hidden}, SynthKind::Bias);
  hunyuan::mlp_embedder(table, "time_in", hidden, hunyuan::kTimestepDim);
  hunyuan::mlp_embedder(table, "vector_in", hidden, kClipDim / config.width_div);
  hunyuan::mlp_embedder(table, "guidance_in", hidden, hunyuan::kTimestepDim);
  hunyuan::token_refiner(table, hidden, kTextDim / config.width_div);
  for (unsigned block = 0; block < config.blocks; ++block) {
    hunyuan::double_block(table, block, hidden, head);
  }
  for (unsigned block = 0; block < 2 * config.blocks; ++block) single_block(table, block, hidden, head);
  hunyuan::final_layer(table, hidden, kPatchOut);
  return tensors;
}

}  // namespace qfp8
