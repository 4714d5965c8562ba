// hidream_shapes.cpp — HiDream-I1 in ComfyUI's names (comfy/ldm/hidream/model.py; the same
// names as the published transformer): 16 double-stream and 32 single-stream blocks,
// 2560 wide (20 heads of 128), every block's MLP a mixture of 4 SwiGLU experts plus a
// shared one. `blocks` N gives N double and 2N single blocks (the published ratio) and
// 3N + 1 caption projections. ComfyUI's detection fixes every dimension (16 + 32 blocks,
// 2560 wide), so only the full model loads there as it is.
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kHidden = 2560;
constexpr uint64_t kTextWidth = 4096;    // Llama 3.1 8B and T5-XXL hidden states
constexpr uint64_t kPooledWidth = 2048;  // pooled CLIP-L (768) + CLIP-G (1280)
constexpr uint64_t kLatentPatch = 64;    // 16 latent channels x 2x2 patch: not narrowed
constexpr uint64_t kTimestepDim = 256;   // sinusoidal timestep embedding: not narrowed
constexpr unsigned kExperts = 4;         // routed experts per MoE MLP (2 active)

/// The SwiGLU width for a requested one: two thirds, rounded up to a multiple of 256
/// (FeedForwardSwiGLU): 4 x 2560 -> 6912, 2 x 2560 -> 3584.
uint64_t swiglu_width(uint64_t requested) {
  const uint64_t two_thirds = 2 * requested / 3;
  return (two_thirds + 255) / 256 * 256;
}

void add_swiglu(SynthTable& table, const std::string& name, uint64_t hidden, uint64_t requested) {
  const uint64_t width = swiglu_width(requested);
  table.linear(name + ".w1", width, hidden, /*bias=*/false);
  table.linear(name + ".w2", hidden, width, /*bias=*/false);
  table.linear(name + ".w3", width, hidden, /*bias=*/false);
}

void add_moe(SynthTable& table, const std::string& name, uint64_t hidden) {
  add_swiglu(table, name + ".shared_experts", hidden, 2 * hidden);
  for (unsigned expert = 0; expert < kExperts; ++expert) {
    add_swiglu(table, name + ".experts." + std::to_string(expert), hidden, 4 * hidden);
  }
  // The router: a bare [experts, hidden] parameter (MoEGate), not a Linear.
  table.tensor(name + ".gate.weight", {kExperts, hidden}, SynthKind::LinearWeight);
}

void add_attention(SynthTable& table, const std::string& attn, uint64_t hidden, bool text) {
  const char* suffix = text ? "_t" : "";
  for (const char* name : {"to_q", "to_k", "to_v", "to_out"}) {
    table.linear(attn + name + suffix, hidden, hidden);
  }
  // RMSNorms over all heads at once (2560), not per head.
  table.norm(attn + "q_rms_norm" + suffix, hidden);
  table.norm(attn + "k_rms_norm" + suffix, hidden);
}

void add_double_block(SynthTable& table, unsigned index, uint64_t hidden) {
  const std::string block = "double_stream_blocks." + std::to_string(index) + ".block.";
  // Shift, scale and gate for attention and MLP, image and text: 12 x hidden.
  table.linear(block + "adaLN_modulation.1", 12 * hidden, hidden);
  add_attention(table, block + "attn1.", hidden, false);
  add_attention(table, block + "attn1.", hidden, true);
  add_moe(table, block + "ff_i", hidden);
  add_swiglu(table, block + "ff_t", hidden, 4 * hidden);
}

void add_single_block(SynthTable& table, unsigned index, uint64_t hidden) {
  const std::string block = "single_stream_blocks." + std::to_string(index) + ".block.";
  table.linear(block + "adaLN_modulation.1", 6 * hidden, hidden);
  add_attention(table, block + "attn1.", hidden, false);
  add_moe(table, block + "ff_i", hidden);
}

}  // namespace

std::vector<SynthTensor> hidream_tensors(const SynthConfig& config) {
  const uint64_t div = config.width_div;
  const uint64_t hidden = kHidden / div;
  const unsigned single_blocks = 2 * config.blocks;
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.linear("t_embedder.timestep_embedder.linear_1", hidden, kTimestepDim);
  table.linear("t_embedder.timestep_embedder.linear_2", hidden, hidden);
  table.linear("p_embedder.pooled_embedder.linear_1", hidden, kPooledWidth / div);
  table.linear("p_embedder.pooled_embedder.linear_2", hidden, hidden);
  table.linear("x_embedder.proj", hidden, kLatentPatch);
  for (unsigned block = 0; block < config.blocks; ++block) add_double_block(table, block, hidden);
  for (unsigned block = 0; block < single_blocks; ++block) add_single_block(table, block, hidden);
  // One Llama projection per block, then T5-XXL's: 16 + 32 + 1 = 49 in the full model.
  for (unsigned caption = 0; caption <= config.blocks + single_blocks; ++caption) {
    table.linear("caption_projection." + std::to_string(caption) + ".linear", hidden,
                 kTextWidth / div, /*bias=*/false);
  }
  table.linear("final_layer.linear", kLatentPatch, hidden);
  table.linear("final_layer.adaLN_modulation.1", 2 * hidden, hidden);
  return tensors;
}

}  // namespace qfp8
