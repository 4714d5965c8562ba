// ltx_layers.hpp — the layers LTX-Video and LTX-2 share, in ComfyUI's names
// (comfy/ldm/lightricks/model.py): the adaLN-single timestep embedders, the caption
// projection, attention with q/k RMSNorms over the whole inner width, and the GELU MLP.
#pragma once

#include <string>

#include "synth/synth_tensor.hpp"

namespace qfp8::ltx {

constexpr uint64_t kTimestepDim = 256;  // sinusoidal timestep embedding: not narrowed
constexpr uint64_t kLatent = 128;       // LTX VAE latent channels, patch 1: not narrowed

/// AdaLayerNormSingle: timestep embedder (256 -> width -> width) and `coefficients` x width.
inline void adaln_single(SynthTable& table, const std::string& name, uint64_t width,
                         uint64_t coefficients) {
  table.linear(name + ".emb.timestep_embedder.linear_1", width, kTimestepDim);
  table.linear(name + ".emb.timestep_embedder.linear_2", width, width);
  table.linear(name + ".linear", coefficients * width, width);
}

/// PixArtAlphaTextProjection: in -> width -> width.
inline void caption_projection(SynthTable& table, const std::string& name, uint64_t width, uint64_t in) {
  table.linear(name + ".linear_1", width, in);
  table.linear(name + ".linear_2", width, width);
}

/// CrossAttention: q from `query` wide tokens, k and v from `context` wide ones, `inner` wide.
inline void attention(SynthTable& table, const std::string& name, uint64_t query, uint64_t context,
                      uint64_t inner) {
  table.norm(name + ".q_norm", inner);
  table.norm(name + ".k_norm", inner);
  table.linear(name + ".to_q", inner, query);
  table.linear(name + ".to_k", inner, context);
  table.linear(name + ".to_v", inner, context);
  table.linear(name + ".to_out.0", query, inner);
}

/// FeedForward (mult 4, tanh GELU).
inline void feed_forward(SynthTable& table, const std::string& name, uint64_t width) {
  table.linear(name + ".net.0.proj", 4 * width, width);
  table.linear(name + ".net.2", width, 4 * width);
}

/// A modulation table: an nn.Parameter [rows, width], no `.weight`.
inline void scale_shift_table(SynthTable& table, const std::string& name, uint64_t rows, uint64_t width) {
  table.tensor(name, {rows, width}, SynthKind::LinearWeight);
}

}  // namespace qfp8::ltx
