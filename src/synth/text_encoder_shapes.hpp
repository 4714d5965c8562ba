// text_encoder_shapes.hpp — the two layouts every synthetic text encoder is built from, in
// the key naming of ComfyUI's text-encoder classes: the T5 encoder (comfy/text_encoders/t5.py)
// and the decoder-only language model (comfy/text_encoders/llama.py, Llama2_). Each model's
// <model>_shapes.cpp fills in its published widths.
#pragma once

#include <cstdint>
#include <vector>

#include "synth/synth_tensor.hpp"

namespace qfp8 {

struct T5EncoderDims {
  uint64_t vocabulary;     // token embedding rows (`shared`): not narrowed
  uint64_t model;          // d_model
  uint64_t feed_forward;   // d_ff of the gated feed-forward (wi_0, wi_1, wo)
  bool bias_every_block;   // UMT5: every block has its own relative attention bias
};

/// shared, encoder.block.N.*, encoder.final_layer_norm: `blocks` blocks, widths / width_div.
void add_t5_encoder(SynthTable& table, const SynthConfig& config, const T5EncoderDims& dims);

struct LanguageModelDims {
  uint64_t vocabulary;     // model.embed_tokens rows: not narrowed
  uint64_t hidden;         // hidden_size
  uint64_t intermediate;   // intermediate_size of the gated MLP
  uint64_t query;          // num_attention_heads x head_dim
  uint64_t key_value;      // num_key_value_heads x head_dim
  uint64_t head_dim;       // q_norm / k_norm width
  bool qkv_bias;           // Qwen2.5: q/k/v projections have a bias
  bool qk_norm;            // Qwen3, Gemma 3: q_norm and k_norm per layer
  bool gemma_norms;        // Gemma: pre/post feed-forward norms as well
};

/// model.embed_tokens, model.layers.N.*, model.norm: `blocks` layers, widths / width_div.
void add_language_model(SynthTable& table, const SynthConfig& config,
                        const LanguageModelDims& dims);

}  // namespace qfp8
