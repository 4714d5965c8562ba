// test_model_families_text.cpp — the text-encoder families (docs/models.md#text-encoders):
// each encoder's ComfyUI keys and published widths detect it with its variant, the near-misses
// ComfyUI's detect_te_model tells apart do not, encoders and diffusion models never match each
// other, the keep lists' reasons, and the layout the plan picks for a text encoder (legacy
// scaled_fp8 unless --layout says otherwise).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "plan/conversion_plan.hpp"
#include "plan/model_families.hpp"
#include "support/family_headers.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

/// True when the plan writes an output tensor called `name`.
bool writes(const ConversionPlan& plan, const std::string& name) {
  for (const auto& tensor : plan.layout.tensors()) {
    if (tensor.name == name) return true;
  }
  return false;
}

/// The names of every matching family, comma-separated ("" when none matches).
std::string matches(const std::vector<ShapeSpec>& specs) {
  std::string names;
  for (const auto& match : detect_model_family(family_header(specs)).matches) {
    names += (names.empty() ? "" : ", ") + std::string(match.family->name);
  }
  return names;
}

/// T5 encoder block `n` at full width (t5_config_xxl.json: 4096, d_ff 10240, 64 heads).
std::vector<ShapeSpec> t5_block(int n, bool relative_bias, uint64_t heads = 64, uint64_t width = 4096) {
  const std::string b = "encoder.block." + std::to_string(n) + ".layer.";
  std::vector<ShapeSpec> specs = {{b + "0.SelfAttention.q.weight", {width, width}},
                             {b + "0.SelfAttention.k.weight", {width, width}},
                             {b + "0.layer_norm.weight", {width}},
                             {b + "1.DenseReluDense.wi_0.weight", {10240, width}},
                             {b + "1.DenseReluDense.wi_1.weight", {10240, width}},
                             {b + "1.DenseReluDense.wo.weight", {width, 10240}}};
  if (relative_bias) specs.push_back({b + "0.SelfAttention.relative_attention_bias.weight", {32, heads}});
  return specs;
}

std::vector<ShapeSpec> t5(uint64_t vocabulary, bool bias_every_block) {
  return std::vector<ShapeSpec>{{"shared.weight", {vocabulary, 4096}}, {"encoder.final_layer_norm.weight", {4096}}} +
         t5_block(0, true) + t5_block(1, bias_every_block) + t5_block(23, bias_every_block);
}

struct Lm {
  uint64_t vocabulary, hidden, intermediate, query, key_value;
  bool qkv_bias = false, qk_norm = false, gemma_norms = false;
};

/// Layer `n` of a decoder-only language model in ComfyUI's llama.py names.
std::vector<ShapeSpec> lm_layer(int n, const Lm& m) {
  const std::string l = "model.layers." + std::to_string(n) + ".";
  std::vector<ShapeSpec> specs = {{l + "self_attn.q_proj.weight", {m.query, m.hidden}},
                             {l + "self_attn.k_proj.weight", {m.key_value, m.hidden}},
                             {l + "self_attn.o_proj.weight", {m.hidden, m.query}},
                             {l + "mlp.gate_proj.weight", {m.intermediate, m.hidden}},
                             {l + "mlp.down_proj.weight", {m.hidden, m.intermediate}},
                             {l + "input_layernorm.weight", {m.hidden}},
                             {l + "post_attention_layernorm.weight", {m.hidden}}};
  if (m.qkv_bias) specs.push_back({l + "self_attn.k_proj.bias", {m.key_value}});
  if (m.qk_norm) specs.push_back({l + "self_attn.q_norm.weight", {128}});
  if (m.gemma_norms) specs.push_back({l + "post_feedforward_layernorm.weight", {m.hidden}});
  return specs;
}

std::vector<ShapeSpec> lm(const Lm& m, int layers = 2) {
  std::vector<ShapeSpec> specs = {{"model.embed_tokens.weight", {m.vocabulary, m.hidden}},
                             {"model.norm.weight", {m.hidden}}};
  for (int n = 0; n < layers; ++n) specs = specs + lm_layer(n, m);
  return specs;
}

// Published widths: comfy/text_encoders/llama.py configs.
const Lm kQwen25Vl7b{152064, 3584, 18944, 3584, 512, true};
const Lm kQwen25_3b{151936, 2048, 11008, 2048, 256, true};
const Lm kQwen3_4b{151936, 2560, 9728, 4096, 1024, false, true};
const Lm kQwen3_2b{151936, 2048, 6144, 2048, 1024, false, true};
const Lm kLlama31{128256, 4096, 14336, 4096, 1024};
const Lm kLlava{128320, 4096, 14336, 4096, 1024};
const Lm kMistral{131072, 5120, 32768, 4096, 1024};
const Lm kGemma2{256000, 2304, 9216, 2048, 1024, false, false, true};
const Lm kGemma3_4b{262208, 2560, 10240, 2048, 1024, false, true, true};

const std::vector<ShapeSpec> kVisual = {{"visual.blocks.0.attn.qkv.weight", {3840, 1280}},
                                   {"visual.merger.mlp.0.weight", {5120, 5120}}};

}  // namespace

TEST_CASE("each text encoder is detected from ComfyUI's keys and widths", "[families][text-encoder]") {
  CHECK(matches(t5(32128, false)) == "t5xxl");
  CHECK(matches(t5(256384, true)) == "umt5xxl");
  CHECK(matches(lm(kQwen25Vl7b) + kVisual) == "qwen25-vl-7b");
  CHECK(matches(lm(kQwen3_4b)) == "qwen3-4b");
  CHECK(matches(lm(kLlama31)) == "llama31-8b");
  CHECK(matches(lm(kMistral)) == "mistral-small-3");
  CHECK(matches(lm(kGemma2)) == "gemma");

  CHECK(describe_only(t5(32128, false)) ==
        "t5xxl from encoder.block.0.layer.1.DenseReluDense.wi_1.weight, "
        "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight[1]=64");
  CHECK(describe_only(lm(kQwen25Vl7b) + kVisual) ==
        "qwen25-vl-7b from model.layers.0.self_attn.k_proj.bias, "
        "model.layers.0.self_attn.k_proj.bias[0]=512 (variant: with the vision tower (visual.*))");
  CHECK(describe_only(lm(kQwen25Vl7b)).find("(variant: language model only)") != std::string::npos);
  CHECK(describe_only(lm(kQwen3_4b)) ==
        "qwen3-4b from model.layers.0.self_attn.q_norm.weight, "
        "model.layers.0.post_attention_layernorm.weight[0]=2560 (variant: Qwen3 4B (Z-Image))");
  CHECK(describe_only(lm(kQwen3_2b)).find("(variant: Qwen3 2B (Ovis-Image))") != std::string::npos);
  CHECK(describe_only(lm(kLlama31)) ==
        "llama31-8b from model.layers.0.post_attention_layernorm.weight[0]=4096 "
        "(variant: Llama 3.1 8B Instruct (HiDream))");
  CHECK(describe_only(lm(kLlava)).find("(variant: llava-llama-3 8B (HunyuanVideo))") != std::string::npos);
  CHECK(describe_only(lm(kGemma2)).find("(variant: Gemma 2 2B (Lumina 2))") != std::string::npos);
  CHECK(describe_only(lm(kGemma3_4b)).find("(variant: Gemma 3)") != std::string::npos);
}

TEST_CASE("depth variants: fewer T5 blocks or Mistral layers than ComfyUI looks for",
          "[families][text-encoder]") {
  const std::vector<ShapeSpec> shallow = std::vector<ShapeSpec>{{"shared.weight", {32128, 4096}}} + t5_block(0, true);
  CHECK(describe_only(shallow).find("(variant: fewer than 24 blocks") != std::string::npos);
  CHECK(describe_only(t5(32128, false)).find("variant") == std::string::npos);
  CHECK(describe_only(lm(kMistral)).find("fewer than 40 layers") != std::string::npos);
  CHECK(describe_only(lm(kMistral) + lm_layer(39, kMistral)).find("variant") == std::string::npos);
}

TEST_CASE("narrowed copies are detected by their vocabulary or head count", "[families][text-encoder]") {
  // synth --width-div narrows hidden widths; vocabularies and T5's 64 heads stay.
  auto narrow = [](Lm m) {
    m.hidden /= 16, m.intermediate /= 16, m.query /= 16, m.key_value /= 16;
    return m;
  };
  CHECK(matches(lm(narrow(kQwen25Vl7b))) == "qwen25-vl-7b");
  CHECK(matches(lm(narrow(kQwen3_4b))) == "qwen3-4b");
  CHECK(matches(lm(narrow(kLlama31))) == "llama31-8b");
  CHECK(matches(lm(narrow(kMistral))) == "mistral-small-3");
  CHECK(matches(lm(narrow(kGemma2))) == "gemma");
  const std::vector<ShapeSpec> t5_narrow = std::vector<ShapeSpec>{{"shared.weight", {32128, 256}}} +
                                      t5_block(0, true, 64, 256) + t5_block(1, false, 64, 256);
  CHECK(matches(t5_narrow) == "t5xxl");
}

TEST_CASE("near-misses ComfyUI tells apart are not detected as a neighbour", "[families][text-encoder]") {
  // UMT5 with one block: only its vocabulary tells it from T5.
  CHECK(matches(std::vector<ShapeSpec>{{"shared.weight", {256384, 4096}}} + t5_block(0, true)) == "umt5xxl");
  // T5 with a bias in block 1 (UMT5's layout) but T5's vocabulary: still UMT5-shaped.
  CHECK(matches(t5(32128, true)) == "umt5xxl");
  // Pile T5-XL (AuraFlow, T5_XL in ComfyUI): 32 heads, 2048 wide: neither.
  CHECK(matches(std::vector<ShapeSpec>{{"shared.weight", {32128, 2048}}} + t5_block(0, true, 32, 2048) +
                t5_block(1, true, 32, 2048)) == "");
  // T5 base / old T5-XXL: an ungated feed-forward (`wi`), no wi_1.
  CHECK(matches({{"shared.weight", {32128, 768}},
                 {"encoder.block.0.layer.1.DenseReluDense.wi.weight", {3072, 768}},
                 {"encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", {32, 12}}}) == "");
  // Qwen2.5 3B (OmniGen2): k_proj bias of 256 and its own vocabulary.
  CHECK(matches(lm(kQwen25_3b)) == "");
  // Gemma 3 4B has Qwen3 4B's width and q_norm: ComfyUI checks Gemma first.
  CHECK(matches(lm(kGemma3_4b)) == "gemma");
  // Qwen3 with an unknown width and vocabulary; a Qwen3 width without q_norm: neither Qwen3
  // nor (q_norm) Llama.
  Lm odd = kQwen3_4b;
  odd.hidden = 3072, odd.vocabulary = 100000;
  CHECK(matches(lm(odd)) == "");
  Lm no_norm = kQwen3_4b;
  no_norm.qk_norm = false;
  CHECK(matches(lm(no_norm)) == "");
  // Llama's layout 5120 wide is Mistral's, and Mistral's 4096 wide with Llama's vocabulary Llama's.
  Lm wide = kLlama31;
  wide.hidden = 5120, wide.vocabulary = 131072;
  CHECK(matches(lm(wide)) == "mistral-small-3");
  // A Qwen2.5 7B has Llama's structure plus a k_proj bias: never Llama.
  Lm biased = kLlama31;
  biased.qkv_bias = true;
  CHECK(matches(lm(biased)) == "");
}

TEST_CASE("text encoders and diffusion models never match each other", "[families][text-encoder]") {
  // Diffusion models that carry text-encoder widths (Qwen-Image: 3584, Wan: 4096) have no
  // `model.layers.` / `encoder.block.` keys.
  const std::vector<ShapeSpec> qwen_image = {{"txt_norm.weight", {3584}},
                                        {"txt_in.weight", {3072, 3584}},
                                        {"img_in.weight", {3072, 64}}};
  const std::vector<ShapeSpec> wan = {{"head.modulation", {1, 2, 5120}},
                                 {"patch_embedding.weight", {5120, 16, 1, 2, 2}},
                                 {"text_embedding.0.weight", {5120, 4096}},
                                 {"blocks.0.self_attn.q.weight", {5120, 5120}}};
  for (const auto& model : {qwen_image, wan}) {
    for (const auto& match : detect_model_family(family_header(model)).matches) {
      CHECK_FALSE(is_text_encoder_family(*match.family));
    }
  }
  // Each encoder matches exactly one family, which is a text encoder.
  for (const auto& encoder : {t5(32128, false), t5(256384, true), lm(kQwen25Vl7b), lm(kQwen3_4b),
                              lm(kLlama31), lm(kMistral), lm(kGemma2)}) {
    const FamilyDetection detection = detect_model_family(family_header(encoder));
    REQUIRE(detection.unique() != nullptr);
    CHECK(is_text_encoder_family(*detection.unique()->family));
  }
}

TEST_CASE("text-encoder keep lists, with the reason the dry run prints", "[families][text-encoder]") {
  const ConversionPlan t5_plan = make_conversion_plan(family_header(t5(32128, false)), {}, "in");
  CHECK(reason(t5_plan, "shared.weight") == "keep: t5xxl preset (shared)");
  CHECK(reason(t5_plan, "encoder.block.1.layer.1.DenseReluDense.wo.weight") == "quantize");
  // 32 x 64 = 2048 elements: below the size rule before the preset is asked.
  CHECK(reason(t5_plan, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight") ==
        "keep: 2048 elements < 4096");

  const ConversionPlan qwen = make_conversion_plan(family_header(lm(kQwen25Vl7b) + kVisual +
                                                             std::vector<ShapeSpec>{{"lm_head.weight", {152064, 3584}}}),
                                                   {}, "in");
  CHECK(reason(qwen, "model.embed_tokens.weight") == "keep: qwen25-vl-7b preset (model.embed_tokens)");
  CHECK(reason(qwen, "lm_head.weight") == "keep: qwen25-vl-7b preset (lm_head)");
  CHECK(reason(qwen, "visual.blocks.0.attn.qkv.weight") == "keep: qwen25-vl-7b preset (visual.*)");
  CHECK(reason(qwen, "visual.merger.mlp.0.weight") == "keep: qwen25-vl-7b preset (visual.*)");
  CHECK(reason(qwen, "model.layers.1.mlp.gate_proj.weight") == "quantize");

  const ConversionPlan gemma = make_conversion_plan(
      family_header(lm(kGemma2) + std::vector<ShapeSpec>{{"vision_model.encoder.layers.0.mlp.fc1.weight", {4304, 1152}}}),
      {}, "in");
  CHECK(reason(gemma, "vision_model.encoder.layers.0.mlp.fc1.weight") == "keep: gemma preset (vision_model.*)");
  CHECK(reason(gemma, "model.layers.0.self_attn.q_proj.weight") == "quantize");
}

TEST_CASE("a text encoder is written in the legacy layout unless --layout says otherwise",
          "[families][text-encoder][legacy]") {
  const Header encoder = family_header(lm(kQwen3_4b));
  const ConversionPlan plan = make_conversion_plan(encoder, {}, "in");
  CHECK(plan.written_layout == OutputLayout::Legacy);
  CHECK(plan.layout_reason.find("text encoder (qwen3-4b): legacy layout (scaled_fp8)") == 0);
  CHECK(plan.metadata.count("_quantization_metadata") == 0);
  CHECK(writes(plan, "scaled_fp8"));
  CHECK(writes(plan, "model.layers.0.mlp.gate_proj.scale_weight"));
  CHECK(!writes(plan, "model.layers.0.mlp.gate_proj.weight_scale"));

  // --preset none keeps the file a text encoder: still the layout its loader reads.
  PlanOptions bare;
  bare.preset = Preset::None;
  CHECK(make_conversion_plan(encoder, bare, "in").written_layout == OutputLayout::Legacy);

  // --layout comfy is the user's decision: comfy, no reason.
  PlanOptions comfy;
  comfy.layout = OutputLayout::Comfy;
  const ConversionPlan forced = make_conversion_plan(encoder, comfy, "in");
  CHECK(forced.written_layout == OutputLayout::Comfy);
  CHECK(forced.layout_reason.empty());
  CHECK(forced.metadata.count("_quantization_metadata") == 1);
  CHECK(!writes(forced, "scaled_fp8"));

  // A diffusion model keeps the comfy default.
  const ConversionPlan qwen_image = make_conversion_plan(
      family_header({{"txt_norm.weight", {3584}}, {"transformer_blocks.0.attn.to_q.weight", {3072, 3072}}}),
      {}, "in");
  CHECK(qwen_image.written_layout == OutputLayout::Comfy);
  CHECK(qwen_image.layout_reason.empty());
  CHECK(qwen_image.metadata.count("_quantization_metadata") == 1);
}

TEST_CASE("a text encoder in another format than float8_e4m3fn is written in the comfy layout",
          "[families][text-encoder][formats]") {
  PlanOptions options;
  options.format = QuantFormat::Nvfp4;
  const ConversionPlan plan = make_conversion_plan(family_header(lm(kQwen3_4b)), options, "in");
  CHECK(plan.written_layout == OutputLayout::Comfy);
  CHECK(plan.layout_reason.find("text encoder (qwen3-4b): comfy layout") == 0);
  CHECK(plan.metadata.count("_quantization_metadata") == 1);
}
