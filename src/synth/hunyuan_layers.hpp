// hunyuan_layers.hpp — the layers HunyuanVideo 1.0 and 1.5 share, in ComfyUI's names
// (comfy/ldm/hunyuan_video/model.py on comfy/ldm/flux/layers.py): MLP embedders, the text
// token refiner, double-stream blocks and the final layer. Widths as the caller narrowed them.
#pragma once

#include <algorithm>
#include <string>

#include "synth/synth_tensor.hpp"

namespace qfp8::hunyuan {

constexpr uint64_t kHeadDim = 128;    // every HunyuanVideo model: ComfyUI reads heads = width / 128
constexpr uint64_t kMinHeadDim = 8;   // narrower models keep a usable q/k norm
constexpr uint64_t kTimestepDim = 256;  // sinusoidal timestep embedding: not narrowed

inline uint64_t head_dim(unsigned width_div) {
  return std::max<uint64_t>(kHeadDim / width_div, kMinHeadDim);
}

/// MLPEmbedder: in_layer [hidden, in], out_layer [hidden, hidden].
inline void mlp_embedder(SynthTable& table, const std::string& name, uint64_t hidden, uint64_t in) {
  table.linear(name + ".in_layer", hidden, in);
  table.linear(name + ".out_layer", hidden, hidden);
}

/// A LayerNorm with elementwise affine: weight and bias.
inline void layer_norm(SynthTable& table, const std::string& name, uint64_t width) {
  table.norm(name, width);
  table.tensor(name + ".bias", {width}, SynthKind::Bias);
}

/// txt_in (TokenRefiner): the text projection, two embedders and two refiner blocks.
inline void token_refiner(SynthTable& table, uint64_t hidden, uint64_t text_dim) {
  table.linear("txt_in.input_embedder", hidden, text_dim);
  mlp_embedder(table, "txt_in.t_embedder", hidden, kTimestepDim);
  mlp_embedder(table, "txt_in.c_embedder", hidden, text_dim);
  for (int index = 0; index < 2; ++index) {
    const std::string block = "txt_in.individual_token_refiner.blocks." + std::to_string(index) + ".";
    layer_norm(table, block + "norm1", hidden);
    table.linear(block + "self_attn.qkv", 3 * hidden, hidden);
    table.linear(block + "self_attn.proj", hidden, hidden);
    layer_norm(table, block + "norm2", hidden);
    table.linear(block + "mlp.0", 4 * hidden, hidden);
    table.linear(block + "mlp.2", hidden, 4 * hidden);
    table.linear(block + "adaLN_modulation.1", 2 * hidden, hidden);
  }
}

/// One DoubleStreamBlock (qkv bias, mlp ratio 4): the image and the text half.
inline void double_block(SynthTable& table, unsigned index, uint64_t hidden, uint64_t head) {
  const std::string block = "double_blocks." + std::to_string(index) + ".";
  for (const char* stream : {"img", "txt"}) {
    const std::string s = block + stream;
    table.linear(s + "_mod.lin", 6 * hidden, hidden);
    table.linear(s + "_attn.qkv", 3 * hidden, hidden);
    table.norm(s + "_attn.norm.query_norm", head, ".scale");
    table.norm(s + "_attn.norm.key_norm", head, ".scale");
    table.linear(s + "_attn.proj", hidden, hidden);
    table.linear(s + "_mlp.0", 4 * hidden, hidden);
    table.linear(s + "_mlp.2", hidden, 4 * hidden);
  }
}

/// LastLayer: the adaLN modulation and the projection to `patch_out` values per token.
inline void final_layer(SynthTable& table, uint64_t hidden, uint64_t patch_out) {
  table.linear("final_layer.linear", patch_out, hidden);
  table.linear("final_layer.adaLN_modulation.1", 2 * hidden, hidden);
}

}  // namespace qfp8::hunyuan
