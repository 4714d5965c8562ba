// sd35_shapes.cpp — Stable Diffusion 3.5 Large in ComfyUI's names
// (comfy/ldm/modules/diffusionmodules/mmdit.py; the layout of stabilityai's
// sd3.5_large.safetensors without its text encoders): 38 joint blocks, 2432 wide.
// The MMDiT ties width to depth: 64 per block (heads of 64, one head per block), and
// ComfyUI reads the depth back as x_embedder rows / 64. So `blocks` N gives an N-deep,
// 64N-wide model that ComfyUI loads as such; 38 is the published one. (3.5 Medium is 24
// deep, 1536 wide, with a second attention in its first 13 x blocks: not built here.)
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kWidthPerBlock = 64;
constexpr uint64_t kHeadDim = 64;
constexpr uint64_t kLatentChannels = 16;
constexpr uint64_t kPatch = 2;
constexpr uint64_t kLatentPatch = kLatentChannels * kPatch * kPatch;  // final layer: 64
constexpr uint64_t kPosEmbedPatches = 192 * 192;  // pos_embed_max_size 192 (Large)
constexpr uint64_t kContextWidth = 4096;  // CLIP-L/G hidden states padded + T5-XXL: 4096
constexpr uint64_t kPooledWidth = 2048;   // pooled CLIP-L (768) + CLIP-G (1280)
constexpr uint64_t kTimestepDim = 256;    // sinusoidal timestep embedding

/// One DismantledBlock. `pre_only` (the last context block): only its qkv and a 2-way
/// modulation, since the text stream is not read after it.
void add_dismantled(SynthTable& table, const std::string& block, uint64_t hidden, bool pre_only) {
  table.linear(block + "adaLN_modulation.1", (pre_only ? 2 : 6) * hidden, hidden);
  table.linear(block + "attn.qkv", 3 * hidden, hidden);
  table.norm(block + "attn.ln_q", kHeadDim);
  table.norm(block + "attn.ln_k", kHeadDim);
  if (pre_only) return;
  table.linear(block + "attn.proj", hidden, hidden);
  table.linear(block + "mlp.fc1", 4 * hidden, hidden);
  table.linear(block + "mlp.fc2", hidden, 4 * hidden);
}

}  // namespace

std::vector<SynthTensor> sd35_tensors(const SynthConfig& config) {
  const uint64_t hidden = kWidthPerBlock * config.blocks;
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.tensor("x_embedder.proj.weight", {hidden, kLatentChannels, kPatch, kPatch},
               SynthKind::LinearWeight);
  table.tensor("x_embedder.proj.bias", {hidden}, SynthKind::Bias);
  // A fixed sin/cos table in the published file; any bounded values serve here.
  table.tensor("pos_embed", {1, kPosEmbedPatches, hidden}, SynthKind::Bias);
  table.linear("t_embedder.mlp.0", hidden, kTimestepDim);
  table.linear("t_embedder.mlp.2", hidden, hidden);
  table.linear("y_embedder.mlp.0", hidden, kPooledWidth);
  table.linear("y_embedder.mlp.2", hidden, hidden);
  table.linear("context_embedder", hidden, kContextWidth);
  for (unsigned index = 0; index < config.blocks; ++index) {
    const std::string block = "joint_blocks." + std::to_string(index) + ".";
    add_dismantled(table, block + "context_block.", hidden, index + 1 == config.blocks);
    add_dismantled(table, block + "x_block.", hidden, false);
  }
  table.linear("final_layer.adaLN_modulation.1", 2 * hidden, hidden);
  table.linear("final_layer.linear", kLatentPatch, hidden);
  return tensors;
}

}  // namespace qfp8
