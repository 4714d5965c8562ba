// flux_blocks.cpp — the Flux layout's blocks in ComfyUI's names (comfy/ldm/flux/layers.py).
// Key norms are `.scale`, as in Black Forest Labs' files and ComfyUI's own.
#include "synth/flux_blocks.hpp"

#include <string>

namespace qfp8 {
namespace {

uint64_t first_mlp_width(const FluxBlockShape& shape) {
  return shape.gated_mlp ? 2 * shape.mlp_hidden : shape.mlp_hidden;
}

void add_qk_norm(SynthTable& table, const std::string& prefix, uint64_t head_dim) {
  table.norm(prefix + "norm.query_norm", head_dim, ".scale");
  table.norm(prefix + "norm.key_norm", head_dim, ".scale");
}

void add_stream(SynthTable& table, const std::string& block, const char* stream,
                const FluxBlockShape& shape) {
  const uint64_t h = shape.hidden;
  const std::string s = block + stream;
  // Modulation: shift, scale and gate for attention and MLP (6 x hidden); always biased.
  if (shape.modulation) table.linear(s + "_mod.lin", 6 * h, h);
  table.linear(s + "_attn.qkv", 3 * h, h, shape.qkv_bias);
  add_qk_norm(table, s + "_attn.", shape.head_dim);
  table.linear(s + "_attn.proj", h, h, shape.bias);
  table.linear(s + "_mlp.0", first_mlp_width(shape), h, shape.bias);
  table.linear(s + "_mlp.2", h, shape.mlp_hidden, shape.bias);
}

}  // namespace

void add_flux_double_block(SynthTable& table, unsigned index, const FluxBlockShape& shape) {
  const std::string block = "double_blocks." + std::to_string(index) + ".";
  add_stream(table, block, "img", shape);
  add_stream(table, block, "txt", shape);
}

void add_flux_single_block(SynthTable& table, unsigned index, const FluxBlockShape& shape) {
  const uint64_t h = shape.hidden;
  const std::string block = "single_blocks." + std::to_string(index) + ".";
  table.linear(block + "linear1", 3 * h + first_mlp_width(shape), h, shape.bias);
  table.linear(block + "linear2", h, h + shape.mlp_hidden, shape.bias);
  add_qk_norm(table, block, shape.head_dim);
  // Shift, scale and gate of the one parallel attention + MLP (3 x hidden).
  if (shape.modulation) table.linear(block + "modulation.lin", 3 * h, h);
}

}  // namespace qfp8
