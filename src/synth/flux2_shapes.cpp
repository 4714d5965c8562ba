// flux2_shapes.cpp — Flux.2 dev in ComfyUI's names (comfy/ldm/flux/model.py with
// global_modulation; the layout of Black Forest Labs' flux2-dev.safetensors): 8 double and
// 48 single blocks, 6144 wide, 48 heads of 128, no biases, SiLU-gated MLPs (ratio 3), one
// modulation shared by all blocks. `blocks` N gives N double and 6N single blocks (the
// published ratio). ComfyUI fixes 48 heads with a 128-wide rotary embedding, so only
// width_div 1 loads there.
#include "synth/flux_blocks.hpp"
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kHidden = 6144;
constexpr uint64_t kHeadDim = 128;       // 6144 / 48 heads
constexpr uint64_t kTextWidth = 15360;   // Mistral Small 3.x: three 5120-wide layers stacked
constexpr uint64_t kLatentPatch = 128;   // 32 latent channels x 2x2, patchified before img_in
constexpr uint64_t kTimestepDim = 256;   // sinusoidal timestep / guidance embedding: not narrowed
constexpr unsigned kSinglePerDouble = 6;  // 48 single blocks / 8 double

void add_mlp_embedder(SynthTable& table, const std::string& name, uint64_t hidden) {
  table.linear(name + ".in_layer", hidden, kTimestepDim, /*bias=*/false);
  table.linear(name + ".out_layer", hidden, hidden, /*bias=*/false);
}

}  // namespace

std::vector<SynthTensor> flux2_tensors(const SynthConfig& config) {
  const uint64_t div = config.width_div;
  const uint64_t hidden = kHidden / div;
  const FluxBlockShape shape{hidden, kHeadDim / div, 3 * hidden, /*gated_mlp=*/true,
                             /*qkv_bias=*/false, /*bias=*/false, /*modulation=*/false};
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.linear("img_in", hidden, kLatentPatch, /*bias=*/false);
  table.linear("txt_in", hidden, kTextWidth / div, /*bias=*/false);
  add_mlp_embedder(table, "time_in", hidden);
  add_mlp_embedder(table, "guidance_in", hidden);
  // Shared modulation: double blocks 2 x (shift, scale, gate) per stream, single blocks 1 x.
  table.linear("double_stream_modulation_img.lin", 6 * hidden, hidden, /*bias=*/false);
  table.linear("double_stream_modulation_txt.lin", 6 * hidden, hidden, /*bias=*/false);
  table.linear("single_stream_modulation.lin", 3 * hidden, hidden, /*bias=*/false);
  for (unsigned block = 0; block < config.blocks; ++block) add_flux_double_block(table, block, shape);
  for (unsigned block = 0; block < kSinglePerDouble * config.blocks; ++block) {
    add_flux_single_block(table, block, shape);
  }
  table.linear("final_layer.adaLN_modulation.1", 2 * hidden, hidden, /*bias=*/false);
  table.linear("final_layer.linear", kLatentPatch, hidden, /*bias=*/false);
  return tensors;
}

}  // namespace qfp8
