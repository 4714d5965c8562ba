// flux_blocks.hpp — the double- and single-stream blocks of the Flux layout
// (comfy/ldm/flux/layers.py: DoubleStreamBlock, SingleStreamBlock), shared by the Flux.1,
// Flux.2 and Chroma shape tables, which differ only in the options below.
#pragma once

#include <cstdint>

#include "synth/synth_tensor.hpp"

namespace qfp8 {

struct FluxBlockShape {
  uint64_t hidden;      // stream width
  uint64_t head_dim;    // the q/k RMSNorm width (`.scale`)
  uint64_t mlp_hidden;  // hidden * mlp_ratio
  bool gated_mlp;       // Flux.2's SiLU-gated MLP: the first projection is twice as wide
  bool qkv_bias;        // the attention's qkv Linear has a bias
  bool bias;            // every other Linear of the block has a bias (ComfyUI's ops_bias)
  bool modulation;      // per-block modulation (Flux.1); Flux.2 and Chroma share one
};

/// `double_blocks.N.`: image and text attention (qkv, q/k norm, proj), MLPs, modulation.
void add_flux_double_block(SynthTable& table, unsigned index, const FluxBlockShape& shape);

/// `single_blocks.N.`: linear1 (qkv and MLP input fused), linear2, q/k norm, modulation.
void add_flux_single_block(SynthTable& table, unsigned index, const FluxBlockShape& shape);

}  // namespace qfp8
