// hunyuan_video_15_shapes.cpp — HunyuanVideo 1.5 (8.3B) text-to-video in ComfyUI's names
// (comfy/ldm/hunyuan_video/model.py with vision_in, byt5_in and cond_type_embedding):
// width 2048 (16 heads), 54 double-stream blocks and no single-stream block, patch 1x1x1.
#include "synth/hunyuan_layers.hpp"
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kHidden = 2048;
constexpr uint64_t kTextDim = 3584;    // Qwen2.5-VL-7B hidden states
constexpr uint64_t kByt5Dim = 1472;    // ByT5 (glyph) hidden states
constexpr uint64_t kByt5Mapper = 2048; // ByT5Mapper's own hidden and output width
constexpr uint64_t kVisionDim = 1152;  // SigLIP features; ComfyUI matches exactly 1152
constexpr uint64_t kInChannels = 65;   // 32 latent + 32 condition + 1 mask: not narrowed
constexpr uint64_t kOutChannels = 32;  // 32 latent channels x 1x1x1 patch

void byt5_mapper(SynthTable& table, uint64_t hidden, uint64_t byt5, uint64_t mapper) {
  hunyuan::layer_norm(table, "byt5_in.layernorm", byt5);
  // ByT5Mapper(in 1472, hidden 2048, out 2048, out_dim1 = model width).
  table.linear("byt5_in.fc1", mapper, byt5);
  table.linear("byt5_in.fc2", mapper, mapper);
  table.linear("byt5_in.fc3", hidden, mapper);
}

void vision_projection(SynthTable& table, uint64_t hidden, uint64_t vision) {
  // Wan's MLPProj: LayerNorm, Linear(in, in), GELU, Linear(in, width), LayerNorm.
  hunyuan::layer_norm(table, "vision_in.proj.0", vision);
  table.linear("vision_in.proj.1", vision, vision);
  table.linear("vision_in.proj.3", hidden, vision);
  hunyuan::layer_norm(table, "vision_in.proj.4", hidden);
}

}  // namespace

std::vector<SynthTensor> hunyuan_video_15_tensors(const SynthConfig& config) {
  const uint64_t div = config.width_div;
  const uint64_t hidden = kHidden / div;
  const uint64_t head = hunyuan::head_dim(config.width_div);

  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.tensor("img_in.proj.weight", {hidden, kInChannels, 1, 1, 1}, SynthKind::LinearWeight);
  table.tensor("img_in.proj.bias", {hidden}, SynthKind::Bias);
  hunyuan::mlp_embedder(table, "time_in", hidden, hunyuan::kTimestepDim);
  hunyuan::token_refiner(table, hidden, kTextDim / div);
  for (unsigned block = 0; block < config.blocks; ++block) {
    hunyuan::double_block(table, block, hidden, head);
  }
  byt5_mapper(table, hidden, kByt5Dim / div, kByt5Mapper / div);
  vision_projection(table, hidden, kVisionDim / div);
  // nn.Embedding(3, width): text, ByT5 and vision token types.
  table.tensor("cond_type_embedding.weight", {3, hidden}, SynthKind::LinearWeight);
  hunyuan::final_layer(table, hidden, kOutChannels);
  return tensors;
}

}  // namespace qfp8
