// qwen25_vl_7b_shapes.cpp — Qwen2.5-VL 7B as ComfyUI's Qwen25_7BVLI names it: the language
// model (Qwen25_7BVLI_Config: hidden 3584, MLP 18944, 28 query / 4 key-value heads of 128,
// q/k/v biases, 152064 tokens, 28 layers, no lm_head) and the vision tower `visual.*`
// (comfy/text_encoders/qwen_vl.py Qwen2VLVisionTransformer: width 1280, MLP 3420, 32 blocks,
// a 3-D patch convolution, a patch merger into the language model's width).
#include "synth/model_shapes.hpp"
#include "synth/text_encoder_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kLanguageHidden = 3584;
constexpr uint64_t kVisionHidden = 1280;
constexpr uint64_t kVisionMlp = 3420;
// ComfyUI builds all 32 vision blocks whatever the language model's depth: --blocks sets the
// language model's layers only.
constexpr unsigned kVisionBlocks = 32;
// Patches of 3 channels x 2 frames x 14 x 14 pixels: input dims, not narrowed.
constexpr uint64_t kPatchChannels = 3, kPatchFrames = 2, kPatchSize = 14;
constexpr uint64_t kMergedPatches = 4;  // 2 x 2 patches merged into one token

void add_vision_tower(SynthTable& table, uint64_t div) {
  const uint64_t hidden = kVisionHidden / div;
  const uint64_t mlp = (kVisionMlp + div - 1) / div;  // 3420 = 4 x 855: rounded up
  table.tensor("visual.patch_embed.proj.weight",
               {hidden, kPatchChannels, kPatchFrames, kPatchSize, kPatchSize}, SynthKind::LinearWeight);
  for (unsigned index = 0; index < kVisionBlocks; ++index) {
    const std::string block = "visual.blocks." + std::to_string(index) + ".";
    table.norm(block + "norm1", hidden);
    table.norm(block + "norm2", hidden);
    table.linear(block + "attn.qkv", 3 * hidden, hidden);
    table.linear(block + "attn.proj", hidden, hidden);
    table.linear(block + "mlp.gate_proj", mlp, hidden);
    table.linear(block + "mlp.up_proj", mlp, hidden);
    table.linear(block + "mlp.down_proj", hidden, mlp);
  }
  table.norm("visual.merger.ln_q", hidden);
  table.linear("visual.merger.mlp.0", kMergedPatches * hidden, kMergedPatches * hidden);
  table.linear("visual.merger.mlp.2", kLanguageHidden / div, kMergedPatches * hidden);
}

}  // namespace

std::vector<SynthTensor> qwen25_vl_7b_tensors(const SynthConfig& config) {
  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  add_language_model(table, config,
                     {152064, kLanguageHidden, 18944, 28 * 128, 4 * 128, 128,
                      /*qkv_bias=*/true, /*qk_norm=*/false, /*gemma_norms=*/false});
  add_vision_tower(table, config.width_div);
  return tensors;
}

}  // namespace qfp8
