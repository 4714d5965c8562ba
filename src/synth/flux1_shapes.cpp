// flux1_shapes.cpp — Flux.1 dev in ComfyUI's names (comfy/ldm/flux/model.py; the layout of
// Black Forest Labs' flux1-dev.safetensors): 19 double and 38 single blocks, 3072 wide,
// 24 heads of 128. `blocks` N gives N double and 2N single blocks (the published ratio).
// ComfyUI reads the width from img_in and fixes 24 heads with a 128-wide rotary
// embedding, so only width_div 1 loads there; the depths it counts.
#include "synth/flux_blocks.hpp"
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kHidden = 3072;
constexpr uint64_t kHeadDim = 128;      // 3072 / 24 heads
constexpr uint64_t kT5Width = 4096;     // T5-XXL hidden states into txt_in
constexpr uint64_t kClipWidth = 768;    // pooled CLIP-L into vector_in
constexpr uint64_t kLatentPatch = 64;   // 16 latent channels x 2x2 patch: not narrowed
constexpr uint64_t kTimestepDim = 256;  // sinusoidal timestep / guidance embedding: not narrowed

void add_mlp_embedder(SynthTable& table, const std::string& name, uint64_t in, uint64_t hidden) {
  table.linear(name + ".in_layer", hidden, in);
  table.linear(name + ".out_layer", hidden, hidden);
}

}  // namespace

std::vector<SynthTensor> flux1_tensors(const SynthConfig& config) {
  const uint64_t div = config.width_div;
  const uint64_t hidden = kHidden / div;
  const FluxBlockShape shape{hidden, kHeadDim / div, 4 * hidden, /*gated_mlp=*/false,
                             /*qkv_bias=*/true, /*bias=*/true, /*modulation=*/true};
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.linear("img_in", hidden, kLatentPatch);
  table.linear("txt_in", hidden, kT5Width / div);
  add_mlp_embedder(table, "time_in", kTimestepDim, hidden);
  add_mlp_embedder(table, "vector_in", kClipWidth / div, hidden);
  // Present in dev, Kontext and Krea (guidance-distilled); ComfyUI sets guidance_embed from it.
  add_mlp_embedder(table, "guidance_in", kTimestepDim, hidden);
  for (unsigned block = 0; block < config.blocks; ++block) add_flux_double_block(table, block, shape);
  for (unsigned block = 0; block < 2 * config.blocks; ++block) add_flux_single_block(table, block, shape);
  table.linear("final_layer.adaLN_modulation.1", 2 * hidden, hidden);
  table.linear("final_layer.linear", kLatentPatch, hidden);
  return tensors;
}

}  // namespace qfp8
