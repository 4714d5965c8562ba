// nextdit_shapes.cpp — the tensor tables of Z-Image and Lumina Image 2.0, the two configs of
// ComfyUI's NextDiT (comfy/ldm/lumina/model.py) that comfy/model_detection.py infers from
// cap_embedder.1.weight: 3840 rows -> Z-Image, 2304 rows -> Lumina 2. `blocks` sets the main
// `layers`; the two noise and two context refiner blocks are always there (ComfyUI's
// n_refiner_layers is 2 and is not read from the file).
#include <algorithm>

#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kLatentPatch = 64;    // 16 latent channels x 2x2 patch: not narrowed
constexpr uint64_t kTimestepDim = 256;   // sinusoidal timestep embedding: not narrowed
constexpr uint64_t kMinHeadDim = 8;      // narrower models keep a usable q/k norm
constexpr unsigned kRefinerBlocks = 2;   // NextDiT's n_refiner_layers default

/// One config's full widths (divided by width_div where marked).
struct NextDitWidths {
  uint64_t dim;          // stream width                                   (narrowed)
  uint64_t cap_feat;     // text-encoder hidden size                       (narrowed)
  uint64_t qkv;          // (heads + 2 kv heads) x head dim                 (narrowed)
  uint64_t head_dim;     // q/k RMSNorm width                               (narrowed, >= 8)
  uint64_t ffn;          // SwiGLU hidden width                            (narrowed)
  uint64_t t_hidden;     // timestep MLP hidden width: min(dim, 1024)      (narrowed)
  uint64_t mod_in;       // modulation input: the timestep MLP's output
  const char* mod_name;  // "adaLN_modulation.0" (bare Linear) or ".1" (SiLU, Linear)
  bool pad_tokens;       // x_pad_token / cap_pad_token (ComfyUI pads to multiples of 32)
};

NextDitWidths narrowed(NextDitWidths w, uint64_t div, bool narrow_mod_in) {
  w.dim /= div;
  w.cap_feat /= div;
  w.qkv /= div;
  w.head_dim = std::max(w.head_dim / div, kMinHeadDim);
  w.ffn /= div;
  w.t_hidden /= div;
  if (narrow_mod_in) w.mod_in /= div;
  return w;
}

/// One JointTransformerBlock; `modulated` adds its adaLN Linear (context refiners have none).
void add_block(SynthTable& table, const std::string& block, const NextDitWidths& w, bool modulated) {
  table.linear(block + "attention.qkv", w.qkv, w.dim, /*bias=*/false);
  table.linear(block + "attention.out", w.dim, w.dim, /*bias=*/false);
  table.norm(block + "attention.q_norm", w.head_dim);
  table.norm(block + "attention.k_norm", w.head_dim);
  table.linear(block + "feed_forward.w1", w.ffn, w.dim, /*bias=*/false);
  table.linear(block + "feed_forward.w2", w.dim, w.ffn, /*bias=*/false);
  table.linear(block + "feed_forward.w3", w.ffn, w.dim, /*bias=*/false);
  for (const char* norm : {"attention_norm1", "ffn_norm1", "attention_norm2", "ffn_norm2"}) {
    table.norm(block + norm, w.dim);
  }
  // 4 x dim: scale and gate of the attention, scale and gate of the feed-forward.
  if (modulated) table.linear(block + w.mod_name, 4 * w.dim, w.mod_in);
}

std::vector<SynthTensor> nextdit_tensors(const SynthConfig& config, const NextDitWidths& w) {
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.linear("x_embedder", w.dim, kLatentPatch);
  for (unsigned i = 0; i < kRefinerBlocks; ++i) {
    add_block(table, "noise_refiner." + std::to_string(i) + ".", w, true);
  }
  for (unsigned i = 0; i < kRefinerBlocks; ++i) {
    add_block(table, "context_refiner." + std::to_string(i) + ".", w, false);
  }
  table.linear("t_embedder.mlp.0", w.t_hidden, kTimestepDim);
  table.linear("t_embedder.mlp.2", w.mod_in, w.t_hidden);
  table.norm("cap_embedder.0", w.cap_feat);
  table.linear("cap_embedder.1", w.dim, w.cap_feat);
  for (unsigned i = 0; i < config.blocks; ++i) {
    add_block(table, "layers." + std::to_string(i) + ".", w, true);
  }
  // The final norm has no parameters (LayerNorm without affine); its modulation is SiLU + Linear.
  table.linear("final_layer.linear", kLatentPatch, w.dim);
  table.linear("final_layer.adaLN_modulation.1", w.dim, w.mod_in);
  if (w.pad_tokens) {
    table.tensor("x_pad_token", {1, w.dim}, SynthKind::LinearWeight);
    table.tensor("cap_pad_token", {1, w.dim}, SynthKind::LinearWeight);
  }
  return tensors;
}

}  // namespace

std::vector<SynthTensor> z_image_tensors(const SynthConfig& config) {
  // dim 3840, 30 heads of 128 (no GQA), Qwen3-4B captions (2560), FFN int(8/3 x 3840) rounded
  // up to a multiple of 256 = 10240, timestep MLP 256 -> 1024 -> 256 (z_image_modulation).
  const NextDitWidths full = {3840, 2560, 3 * 30 * 128, 128, 10240, 1024, 256,
                              "adaLN_modulation.0", true};
  return nextdit_tensors(config, narrowed(full, config.width_div, /*narrow_mod_in=*/false));
}

std::vector<SynthTensor> lumina2_tensors(const SynthConfig& config) {
  // dim 2304, 24 query and 8 key/value heads of 96, Gemma-2-2B captions (2304), FFN 4 x 2304,
  // timestep MLP 256 -> 1024 -> 1024 (min(dim, 1024), narrowed with the stream).
  const NextDitWidths full = {2304, 2304, (24 + 2 * 8) * 96, 96, 9216, 1024, 1024,
                              "adaLN_modulation.1", false};
  return nextdit_tensors(config, narrowed(full, config.width_div, /*narrow_mod_in=*/true));
}

}  // namespace qfp8
