// test_model_families_image_b.cpp — the Z-Image and Lumina 2 families (docs/models.md#z-image,
// #lumina2): detection bare and prefixed, the two told apart by their block modulation, near
// misses, keep decisions with their literal reasons; and the `*` segment of keep entries.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "plan/conversion_plan.hpp"
#include "plan/model_families.hpp"
#include "support/family_headers.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

// Z-Image at full width (comfy/ldm/lumina/model.py with the 3840 config): one main block and
// one of each refiner are enough for the planner.
const std::vector<ShapeSpec> kZImage = {
    {"x_embedder.weight", {3840, 64}},
    {"cap_embedder.0.weight", {2560}},
    {"cap_embedder.1.weight", {3840, 2560}},
    {"t_embedder.mlp.0.weight", {1024, 256}},
    {"t_embedder.mlp.2.weight", {256, 1024}},
    {"noise_refiner.0.adaLN_modulation.0.weight", {15360, 256}},
    {"noise_refiner.0.attention.qkv.weight", {11520, 3840}},
    {"context_refiner.0.attention.qkv.weight", {11520, 3840}},
    {"context_refiner.0.feed_forward.w1.weight", {10240, 3840}},
    {"layers.0.adaLN_modulation.0.weight", {15360, 256}},
    {"layers.0.attention.qkv.weight", {11520, 3840}},
    {"layers.0.attention.out.weight", {3840, 3840}},
    {"layers.0.feed_forward.w2.weight", {3840, 10240}},
    {"layers.29.adaLN_modulation.0.weight", {15360, 256}},
    {"final_layer.linear.weight", {64, 3840}},
    {"final_layer.adaLN_modulation.1.weight", {3840, 256}},
    {"x_pad_token", {1, 3840}},
    {"cap_pad_token", {1, 3840}},
};

// Lumina Image 2.0 at full width (the 2304 config).
const std::vector<ShapeSpec> kLumina2 = {
    {"x_embedder.weight", {2304, 64}},
    {"cap_embedder.0.weight", {2304}},
    {"cap_embedder.1.weight", {2304, 2304}},
    {"t_embedder.mlp.0.weight", {1024, 256}},
    {"t_embedder.mlp.2.weight", {1024, 1024}},
    {"noise_refiner.1.adaLN_modulation.1.weight", {9216, 1024}},
    {"noise_refiner.1.attention.qkv.weight", {3840, 2304}},
    {"context_refiner.1.attention.out.weight", {2304, 2304}},
    {"layers.0.adaLN_modulation.1.weight", {9216, 1024}},
    {"layers.0.attention.qkv.weight", {3840, 2304}},
    {"layers.25.adaLN_modulation.1.weight", {9216, 1024}},
    {"layers.25.feed_forward.w3.weight", {9216, 2304}},
    {"final_layer.linear.weight", {64, 2304}},
    {"final_layer.adaLN_modulation.1.weight", {2304, 1024}},
};

// NewBie: Lumina 2's layout plus a pooled CLIP text path (clip_text_dim 1024).
const std::vector<ShapeSpec> kNewBie = {
    {"clip_text_pooled_proj.0.weight", {1024}},
    {"clip_text_pooled_proj.1.weight", {1024, 1024}},
    {"time_text_embed.1.weight", {1024, 2048}},
};

}  // namespace

TEST_CASE("z-image and lumina2 are detected, bare and prefixed", "[families]") {
  for (const std::string prefix : {"", "model.diffusion_model."}) {
    INFO(prefix);
    CHECK(detected(kZImage, prefix) == "z-image");
    CHECK(detected(kLumina2, prefix) == "lumina2");
    CHECK(detected(kLumina2 + kNewBie, prefix) == "lumina2");
  }
  CHECK(describe_only(kZImage) ==
        "z-image from cap_embedder.1.weight, x_embedder.weight, layers.0.adaLN_modulation.0.weight");
  CHECK(describe_only(kLumina2) ==
        "lumina2 from cap_embedder.1.weight, x_embedder.weight, layers.0.adaLN_modulation.1.weight");
  CHECK(describe_only(kLumina2 + kNewBie) ==
        "lumina2 from cap_embedder.1.weight, x_embedder.weight, layers.0.adaLN_modulation.1.weight "
        "(variant: NewBie (pooled CLIP text))");
}

TEST_CASE("z-image and lumina2 are not taken for each other, nor for a near miss", "[families]") {
  // The block modulation tells them apart, whatever the widths: Lumina 2's SiLU + Linear at
  // Z-Image's widths is still Lumina 2, and Z-Image's bare Linear at Lumina's widths Z-Image.
  std::vector<ShapeSpec> lumina_at_z_widths = without(kZImage, "layers.0.adaLN_modulation.0.weight");
  lumina_at_z_widths.push_back({"layers.0.adaLN_modulation.1.weight", {15360, 1024}});
  CHECK(detected(lumina_at_z_widths) == "lumina2");
  std::vector<ShapeSpec> z_at_lumina_widths = without(kLumina2, "layers.0.adaLN_modulation.1.weight");
  z_at_lumina_widths.push_back({"layers.0.adaLN_modulation.0.weight", {9216, 256}});
  CHECK(detected(z_at_lumina_widths) == "z-image");
  // The caption width is no evidence: NewBie's Gemma-3-4B is 2560 wide, like Qwen3-4B.
  std::vector<ShapeSpec> newbie_2560 = without(kLumina2 + kNewBie, "cap_embedder.1.weight");
  newbie_2560.push_back({"cap_embedder.1.weight", {2304, 2560}});
  CHECK(detected(newbie_2560) == "lumina2");
  // A broken file with both modulation layouts matches both: ambiguous, the bare rule.
  const ConversionPlan both = make_conversion_plan(
      family_header(kZImage + std::vector<ShapeSpec>{{"layers.0.adaLN_modulation.1.weight", {15360, 1024}}}),
      {}, "in");
  CHECK(both.detected_model.empty());
  CHECK(both.detection.matches.size() == 2);
  // Without ComfyUI's detection key (cap_embedder.1), or in the diffusers layout (all_x_embedder,
  // which ComfyUI does not load as a diffusion model): no family.
  CHECK(detected(without(kZImage, "cap_embedder.1.weight")) == "");
  std::vector<ShapeSpec> diffusers = without(kZImage, "x_embedder.weight");
  diffusers.push_back({"all_x_embedder.2-1.weight", {3840, 64}});
  CHECK(detected(diffusers) == "");
  // Other prefixes are not the diffusion-model prefix.
  CHECK(detected(kZImage, "model.") == "");
  // Omnigen2, Lumina-like in diffusers naming, has no cap_embedder.
  CHECK(detected({{"time_caption_embed.timestep_embedder.linear_1.weight", {1024, 256}},
                  {"x_embedder.weight", {2520, 64}},
                  {"layers.0.norm1.linear.weight", {4096, 1024}}}) == "");
}

TEST_CASE("z-image keeps its embedders, every block's modulation and the final layer", "[families]") {
  const std::string p = "model.diffusion_model.";
  const ConversionPlan plan = make_conversion_plan(family_header(kZImage, p), {}, "in");
  CHECK(reason(plan, p + "x_embedder.weight") == "keep: z-image preset (x_embedder)");
  CHECK(reason(plan, p + "cap_embedder.1.weight") == "keep: z-image preset (cap_embedder.1)");
  CHECK(reason(plan, p + "t_embedder.mlp.0.weight") == "keep: z-image preset (t_embedder.*)");
  CHECK(reason(plan, p + "t_embedder.mlp.2.weight") == "keep: z-image preset (t_embedder.*)");
  CHECK(reason(plan, p + "noise_refiner.0.adaLN_modulation.0.weight") ==
        "keep: z-image preset (noise_refiner.*.adaLN_modulation.0)");
  CHECK(reason(plan, p + "layers.0.adaLN_modulation.0.weight") ==
        "keep: z-image preset (layers.*.adaLN_modulation.0)");
  CHECK(reason(plan, p + "layers.29.adaLN_modulation.0.weight") ==
        "keep: z-image preset (layers.*.adaLN_modulation.0)");
  CHECK(reason(plan, p + "final_layer.linear.weight") == "keep: z-image preset (final_layer.*)");
  CHECK(reason(plan, p + "final_layer.adaLN_modulation.1.weight") == "keep: z-image preset (final_layer.*)");
  // Attention and feed-forward, refiners' included, are quantized.
  for (const char* name : {"layers.0.attention.qkv.weight", "layers.0.attention.out.weight",
                           "layers.0.feed_forward.w2.weight", "noise_refiner.0.attention.qkv.weight",
                           "context_refiner.0.attention.qkv.weight",
                           "context_refiner.0.feed_forward.w1.weight"}) {
    CHECK(reason(plan, p + name) == "quantize");
  }
  CHECK(reason(plan, p + "cap_embedder.0.weight") == "keep: 1-D");
  CHECK(reason(plan, p + "x_pad_token") == "keep: not .weight");
}

TEST_CASE("lumina2 keeps its embedders, every block's modulation and the final layer", "[families]") {
  const ConversionPlan plan = make_conversion_plan(family_header(kLumina2 + kNewBie), {}, "in");
  CHECK(reason(plan, "x_embedder.weight") == "keep: lumina2 preset (x_embedder)");
  CHECK(reason(plan, "cap_embedder.1.weight") == "keep: lumina2 preset (cap_embedder.1)");
  CHECK(reason(plan, "t_embedder.mlp.2.weight") == "keep: lumina2 preset (t_embedder.*)");
  CHECK(reason(plan, "clip_text_pooled_proj.1.weight") ==
        "keep: lumina2 preset (clip_text_pooled_proj.*)");
  CHECK(reason(plan, "time_text_embed.1.weight") == "keep: lumina2 preset (time_text_embed.*)");
  CHECK(reason(plan, "noise_refiner.1.adaLN_modulation.1.weight") ==
        "keep: lumina2 preset (noise_refiner.*.adaLN_modulation.1)");
  CHECK(reason(plan, "layers.25.adaLN_modulation.1.weight") ==
        "keep: lumina2 preset (layers.*.adaLN_modulation.1)");
  CHECK(reason(plan, "final_layer.adaLN_modulation.1.weight") == "keep: lumina2 preset (final_layer.*)");
  for (const char* name : {"layers.0.attention.qkv.weight", "layers.25.feed_forward.w3.weight",
                           "noise_refiner.1.attention.qkv.weight", "context_refiner.1.attention.out.weight"}) {
    CHECK(reason(plan, name) == "quantize");
  }
}

TEST_CASE("a keep entry's '*' segment stands for exactly one segment", "[families]") {
  const ModelFamily family = {"test", "test", {}, {}, {},
                              {{"layers.*.adaLN_modulation.0", false, "exact"},
                               {"blocks.*.attn", true, "subtree"}},
                              "", ""};
  const auto rule = [&](const std::string& name) { return family_keep_rule(family, name); };
  CHECK(rule("layers.3.adaLN_modulation.0.weight") ==
        std::optional<std::string>("layers.*.adaLN_modulation.0"));
  CHECK(rule("layers.29.adaLN_modulation.0.weight").has_value());
  CHECK(rule("model.diffusion_model.layers.3.adaLN_modulation.0.weight").has_value());
  CHECK_FALSE(rule("layers.adaLN_modulation.0.weight").has_value());      // no segment for '*'
  CHECK_FALSE(rule("layers.3.x.adaLN_modulation.0.weight").has_value());  // two segments
  CHECK_FALSE(rule("layers.3.adaLN_modulation.0.lin.weight").has_value());  // exact: no deeper
  CHECK_FALSE(rule("layers.3.adaLN_modulation.1.weight").has_value());
  CHECK_FALSE(rule("layers.3.adaLN_modulation.0.bias").has_value());        // weights only
  // Subtree form: every layer below `blocks.N.attn.`, not the layer itself, one segment for '*'.
  CHECK(rule("blocks.7.attn.qkv.weight") == std::optional<std::string>("blocks.*.attn.*"));
  CHECK(rule("blocks.7.attn.norm.key_norm.weight").has_value());
  CHECK_FALSE(rule("blocks.7.attn.weight").has_value());
  CHECK_FALSE(rule("blocks.attn.qkv.weight").has_value());
  CHECK_FALSE(rule("blocks.7.8.attn.qkv.weight").has_value());
}
