// chroma_shapes.cpp — Chroma in ComfyUI's names (comfy/ldm/chroma/model.py and layers.py):
// Flux.1-schnell's 19 double and 38 single blocks without per-block modulation, and the
// distilled guidance layer (an MLP of 5 residual layers, 5120 wide) that computes every
// block's modulation. `blocks` N gives N double and 2N single blocks. ComfyUI fixes the
// heads and the approximator's widths, so only width_div 1 loads there.
#include "synth/flux_blocks.hpp"
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kHidden = 3072;
constexpr uint64_t kHeadDim = 128;           // 3072 / 24 heads
constexpr uint64_t kT5Width = 4096;          // T5-XXL hidden states into txt_in
constexpr uint64_t kLatentPatch = 64;        // 16 latent channels x 2x2 patch: not narrowed
constexpr uint64_t kApproximatorIn = 64;     // timestep, guidance and modulation-index embeddings
constexpr uint64_t kApproximatorWidth = 5120;
constexpr unsigned kApproximatorLayers = 5;

void add_approximator(SynthTable& table, uint64_t width, uint64_t out) {
  const std::string root = "distilled_guidance_layer.";
  table.linear(root + "in_proj", width, kApproximatorIn);
  for (unsigned layer = 0; layer < kApproximatorLayers; ++layer) {
    const std::string index = std::to_string(layer);
    table.linear(root + "layers." + index + ".in_layer", width, width);
    table.linear(root + "layers." + index + ".out_layer", width, width);
    table.norm(root + "norms." + index, width, ".scale");
  }
  table.linear(root + "out_proj", out, width);
}

}  // namespace

std::vector<SynthTensor> chroma_tensors(const SynthConfig& config) {
  const uint64_t div = config.width_div;
  const uint64_t hidden = kHidden / div;
  const FluxBlockShape shape{hidden, kHeadDim / div, 4 * hidden, /*gated_mlp=*/false,
                             /*qkv_bias=*/true, /*bias=*/true, /*modulation=*/false};
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.linear("img_in", hidden, kLatentPatch);
  table.linear("txt_in", hidden, kT5Width / div);
  add_approximator(table, kApproximatorWidth / div, hidden);
  for (unsigned block = 0; block < config.blocks; ++block) add_flux_double_block(table, block, shape);
  for (unsigned block = 0; block < 2 * config.blocks; ++block) add_flux_single_block(table, block, shape);
  table.linear("final_layer.linear", kLatentPatch, hidden);
  return tensors;
}

}  // namespace qfp8
