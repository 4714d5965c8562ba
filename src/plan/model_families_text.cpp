// model_families_text.cpp — the registry's text encoders: one entry per family, in the key
// naming of the files ComfyUI's text-encoder loader reads (docs/models.md#text-encoders has
// the same facts in prose, with their sources). Detection follows comfy/sd.py's
// detect_te_model, which tells several of them apart by a width (`NAME[DIM]=VALUE`).
#include <algorithm>
#include <cstring>

#include "plan/model_family_groups.hpp"

namespace qfp8 {
namespace {

// T5 v1.1 XXL and UMT5-XXL share the encoder layout: a gated feed-forward (wi_0, wi_1; ComfyUI
// reads it in block 23 and requires a 4096-wide stream) and 64 attention heads, which the
// relative-position bias [32 buckets, heads] shows: the XL models have 32, the base ones 12.
// The head count identifies XXL at any width (narrowed synthetic copies keep it).
constexpr const char* kT5GatedFf = "encoder.block.0.layer.1.DenseReluDense.wi_1.weight";
constexpr const char* kT5XxlHeads =
    "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight[1]=64";
// UMT5 gives every block its own relative attention bias (T5: block 0 only,
// comfy/text_encoders/t5.py T5Stack) and has a 256384-token vocabulary (umt5_config_xxl.json).
constexpr const char* kUmt5BlockBias = "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight";
constexpr const char* kUmt5Vocabulary = "shared.weight[0]=256384";

// The decoder-only language models (comfy/text_encoders/llama.py) share one key layout;
// detect_te_model tells them apart by these keys and widths, in this order. Each width
// clause also accepts the model's vocabulary (token embedding rows), which identifies the
// published model as well and is the one size a narrowed synthetic copy keeps.
constexpr const char* kGemmaNorm = "model.layers.0.post_feedforward_layernorm.weight";
constexpr const char* kQwen25Bias = "model.layers.0.self_attn.k_proj.bias";
constexpr const char* kQkNorm = "model.layers.0.self_attn.q_norm.weight";
constexpr const char* kPostAttentionNorm = "model.layers.0.post_attention_layernorm.weight";

const std::vector<KeepEntry> kT5Keep = {
    {"shared", false,
     "token embedding (vocabulary x 4096): an Embedding lookup, which ComfyUI's scaled-FP8 ops "
     "do not scale"},
    {"encoder.embed_tokens", false, "the token embedding's tied copy in Hugging Face files"},
    {"encoder.block.*.layer.0.SelfAttention.relative_attention_bias", false,
     "relative position bias (32 buckets x 64 heads): an Embedding added to every attention score"},
};

const std::vector<KeepEntry> kLanguageModelKeep = {
    {"model.embed_tokens", false,
     "token embedding: an Embedding lookup, which ComfyUI's scaled-FP8 ops do not scale"},
    {"lm_head", false, "output head (hidden -> vocabulary): not built by ComfyUI, kept as published"},
};

std::vector<KeepEntry> with(std::vector<KeepEntry> base, const std::vector<KeepEntry>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

ModelFamily t5xxl() {
  return {
      "t5xxl",
      "T5 v1.1 XXL encoder (Flux.1, SD3/3.5, Chroma, HiDream, LTX-Video, Mochi)",
      {{kT5GatedFf}, {kT5XxlHeads}},
      {kUmt5BlockBias, kUmt5Vocabulary},
      {{"encoder.block.23.layer.1.DenseReluDense.wi_1.weight", true, -1, 0,
        "fewer than 24 blocks: ComfyUI's detect_te_model looks for block 23"}},
      kT5Keep,
      "ComfyUI comfy/sd.py detect_te_model: encoder.block.23...wi_1.weight with 4096 columns -> "
      "T5_XXL; comfy/text_encoders/t5.py: relative attention bias in block 0 only; 64 heads: "
      "t5_config_xxl.json",
      "ComfyUI comfy/ops.py (no scaled Embedding); convert_to_quant AVOID_KEY_NAMES (shared)",
  };
}

ModelFamily umt5xxl() {
  return {
      "umt5xxl",
      "UMT5-XXL encoder (Wan 2.1 / 2.2)",
      {{kT5GatedFf}, {kT5XxlHeads}, {kUmt5BlockBias, kUmt5Vocabulary}},
      {},
      {{"encoder.block.23.layer.1.DenseReluDense.wi_1.weight", true, -1, 0,
        "fewer than 24 blocks: ComfyUI's detect_te_model looks for block 23"}},
      kT5Keep,
      "ComfyUI comfy/sd.py detect_te_model (T5_XXL, loaded as UMT5 with clip type wan); "
      "comfy/text_encoders/t5.py: model_type umt5 gives every block a relative attention bias; "
      "umt5_config_xxl.json: vocab_size 256384",
      "ComfyUI comfy/ops.py (no scaled Embedding); convert_to_quant AVOID_KEY_NAMES (shared)",
  };
}

ModelFamily qwen25_vl_7b() {
  return {
      "qwen25-vl-7b",
      "Qwen2.5-VL 7B language model and vision tower (Qwen-Image, HunyuanVideo 1.5, "
      "HunyuanImage 2.1, Kandinsky 5)",
      {{kQwen25Bias}, {"model.layers.0.self_attn.k_proj.bias[0]=512", "model.embed_tokens.weight[0]=152064"}},
      {kGemmaNorm},
      {{"visual.blocks.0.attn.qkv.weight", false, -1, 0, "with the vision tower (visual.*)"},
       {"visual.blocks.0.attn.qkv.weight", true, -1, 0, "language model only"}},
      with(kLanguageModelKeep,
           {{"visual", true,
             "vision tower (image prompts of Qwen-Image-Edit): a separate 32-block ViT and its "
             "patch merger, kept whole"}}),
      "ComfyUI comfy/sd.py detect_te_model: model.layers.0.self_attn.k_proj.bias with 512 "
      "elements -> QWEN25_7B (256: Qwen2.5 3B), checked after Gemma; vocabulary 152064 "
      "(Qwen2.5 3B: 151936)",
      "convert_to_quant AVOID_KEY_NAMES (embed_tokens, lm_head) and its Qwen2.5 list (visual); "
      "roles from comfy/text_encoders/llama.py and qwen_vl.py",
  };
}

ModelFamily qwen3_4b() {
  return {
      "qwen3-4b",
      "Qwen3 4B (Z-Image); Qwen3 2B (Ovis-Image) as a variant",
      {{kQkNorm}, {"model.layers.0.post_attention_layernorm.weight[0]=2560",
                   "model.layers.0.post_attention_layernorm.weight[0]=2048",
                   "model.embed_tokens.weight[0]=151936"}},
      {kGemmaNorm, kQwen25Bias},
      {{kPostAttentionNorm, false, 0, 2560, "Qwen3 4B (Z-Image)"},
       {kPostAttentionNorm, false, 0, 2048, "Qwen3 2B (Ovis-Image)"}},
      kLanguageModelKeep,
      "ComfyUI comfy/sd.py detect_te_model: q_norm + post_attention_layernorm of 2560 -> "
      "QWEN3_4B, of 2048 -> QWEN3_2B; Gemma (post_feedforward_layernorm) is checked first; "
      "vocabulary 151936",
      "convert_to_quant AVOID_KEY_NAMES (embed_tokens, lm_head); roles from "
      "comfy/text_encoders/llama.py",
  };
}

ModelFamily llama31_8b() {
  return {
      "llama31-8b",
      "Llama 3.1 8B (HiDream-I1) and llava-llama-3 8B (HunyuanVideo 1.0)",
      {{"model.layers.0.post_attention_layernorm.weight[0]=4096",
        "model.embed_tokens.weight[0]=128256", "model.embed_tokens.weight[0]=128320"}},
      {kGemmaNorm, kQwen25Bias, kQkNorm},
      {{"model.embed_tokens.weight", false, 0, 128256, "Llama 3.1 8B Instruct (HiDream)"},
       {"model.embed_tokens.weight", false, 0, 128320, "llava-llama-3 8B (HunyuanVideo)"}},
      kLanguageModelKeep,
      "ComfyUI comfy/sd.py detect_te_model: post_attention_layernorm without q_norm, not 5120 "
      "wide -> LLAMA3_8 (here: 4096 wide, or the Llama 3 vocabulary 128256 / llava's 128320)",
      "convert_to_quant AVOID_KEY_NAMES (embed_tokens, lm_head); roles from "
      "comfy/text_encoders/llama.py",
  };
}

ModelFamily mistral_small_3() {
  return {
      "mistral-small-3",
      "Mistral Small 3.x 24B language model (Flux.2)",
      {{"model.layers.0.post_attention_layernorm.weight[0]=5120",
        "model.embed_tokens.weight[0]=131072"}},
      {kGemmaNorm, kQwen25Bias, kQkNorm},
      {{"model.layers.39.post_attention_layernorm.weight", true, -1, 0,
        "fewer than 40 layers: ComfyUI loads it as the Flux.2-pruned model (30 layers)"}},
      kLanguageModelKeep,
      "ComfyUI comfy/sd.py detect_te_model: post_attention_layernorm of 5120 -> MISTRAL3_24B "
      "(layer 39 present) or MISTRAL3_24B_PRUNED_FLUX2; vocabulary 131072",
      "convert_to_quant --mistral (AVOID_KEY_NAMES: embed_tokens, lm_head); roles from "
      "comfy/text_encoders/llama.py",
  };
}

ModelFamily gemma() {
  return {
      "gemma",
      "Gemma 2 2B (Lumina 2); Gemma 3 4B and 12B (LTX-2) as variants",
      {{kGemmaNorm}},
      {},
      {{kQkNorm, true, -1, 0, "Gemma 2 2B (Lumina 2)"},
       {kQkNorm, false, -1, 0, "Gemma 3"},
       {"model.layers.47.self_attn.q_norm.weight", false, -1, 0, "12B (48 layers; LTX-2)"}},
      with(kLanguageModelKeep,
           {{"vision_model", true, "Gemma 3 12B's SigLIP vision tower (image prompts), kept whole"},
            {"multi_modal_projector", true, "Gemma 3 12B's projection of image features"}}),
      "ComfyUI comfy/sd.py detect_te_model: model.layers.0.post_feedforward_layernorm -> Gemma "
      "(layer 47 q_norm: 3 12B; layer 0 q_norm: 3 4B; else 2 2B), checked first",
      "convert_to_quant AVOID_KEY_NAMES (embed_tokens, lm_head, multi_modal_projector); roles "
      "from comfy/text_encoders/llama.py",
  };
}

}  // namespace

std::vector<ModelFamily> text_encoder_families() {
  return {t5xxl(), umt5xxl(), qwen25_vl_7b(), qwen3_4b(), llama31_8b(), mistral_small_3(), gemma()};
}

bool is_text_encoder_family(const ModelFamily& family) {
  static const std::vector<ModelFamily> encoders = text_encoder_families();
  return std::any_of(encoders.begin(), encoders.end(), [&](const ModelFamily& encoder) {
    return std::strcmp(encoder.name, family.name) == 0;
  });
}

}  // namespace qfp8
