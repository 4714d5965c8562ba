// text_encoder_shapes.cpp — the T5 encoder and decoder-only language model tables
// (text_encoder_shapes.hpp). No layer of either has a bias except Qwen2.5's q/k/v.
#include "synth/text_encoder_shapes.hpp"

#include <algorithm>
#include <string>

namespace qfp8 {
namespace {

// 32 relative-position buckets x 64 heads (t5_config_xxl.json): per head, not a width.
constexpr uint64_t kT5Buckets = 32;
constexpr uint64_t kT5Heads = 64;
constexpr uint64_t kMinHeadDim = 8;  // narrower models keep a usable q/k norm

void add_t5_block(SynthTable& table, unsigned index, uint64_t model, uint64_t feed_forward,
                  bool relative_bias) {
  const std::string block = "encoder.block." + std::to_string(index) + ".layer.";
  // inner_dim = 64 heads x d_kv 64 = d_model in the XXL models.
  for (const char* name : {"q", "k", "v", "o"}) {
    table.linear(block + "0.SelfAttention." + name, model, model, /*bias=*/false);
  }
  if (relative_bias) {
    table.tensor(block + "0.SelfAttention.relative_attention_bias.weight", {kT5Buckets, kT5Heads},
                 SynthKind::LinearWeight);
  }
  table.norm(block + "0.layer_norm", model);
  table.linear(block + "1.DenseReluDense.wi_0", feed_forward, model, false);
  table.linear(block + "1.DenseReluDense.wi_1", feed_forward, model, false);
  table.linear(block + "1.DenseReluDense.wo", model, feed_forward, false);
  table.norm(block + "1.layer_norm", model);
}

void add_decoder_layer(SynthTable& table, unsigned index, const LanguageModelDims& d,
                       uint64_t div) {
  const std::string layer = "model.layers." + std::to_string(index) + ".";
  const uint64_t hidden = d.hidden / div;
  table.linear(layer + "self_attn.q_proj", d.query / div, hidden, d.qkv_bias);
  table.linear(layer + "self_attn.k_proj", d.key_value / div, hidden, d.qkv_bias);
  table.linear(layer + "self_attn.v_proj", d.key_value / div, hidden, d.qkv_bias);
  table.linear(layer + "self_attn.o_proj", hidden, d.query / div, false);
  if (d.qk_norm) {
    const uint64_t head_dim = std::max(d.head_dim / div, kMinHeadDim);
    table.norm(layer + "self_attn.q_norm", head_dim);
    table.norm(layer + "self_attn.k_norm", head_dim);
  }
  table.linear(layer + "mlp.gate_proj", d.intermediate / div, hidden, false);
  table.linear(layer + "mlp.up_proj", d.intermediate / div, hidden, false);
  table.linear(layer + "mlp.down_proj", hidden, d.intermediate / div, false);
  table.norm(layer + "input_layernorm", hidden);
  table.norm(layer + "post_attention_layernorm", hidden);
  if (d.gemma_norms) {
    table.norm(layer + "pre_feedforward_layernorm", hidden);
    table.norm(layer + "post_feedforward_layernorm", hidden);
  }
}

}  // namespace

void add_t5_encoder(SynthTable& table, const SynthConfig& config, const T5EncoderDims& dims) {
  const uint64_t model = dims.model / config.width_div;
  const uint64_t feed_forward = dims.feed_forward / config.width_div;
  table.tensor("shared.weight", {dims.vocabulary, model}, SynthKind::LinearWeight);
  for (unsigned block = 0; block < config.blocks; ++block) {
    add_t5_block(table, block, model, feed_forward, dims.bias_every_block || block == 0);
  }
  table.norm("encoder.final_layer_norm", model);
}

void add_language_model(SynthTable& table, const SynthConfig& config,
                        const LanguageModelDims& dims) {
  const uint64_t div = config.width_div;
  table.tensor("model.embed_tokens.weight", {dims.vocabulary, dims.hidden / div},
               SynthKind::LinearWeight);
  for (unsigned layer = 0; layer < config.blocks; ++layer) {
    add_decoder_layer(table, layer, dims, div);
  }
  table.norm("model.norm", dims.hidden / div);
}

}  // namespace qfp8
