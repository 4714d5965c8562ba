// test_model_families_image_a.cpp — the hidream and sd35 families (docs/models.md#families):
// their signatures detect them bare and `model.diffusion_model.`-prefixed, near-misses do not,
// keep decisions carry their literal reasons; and transformers in diffusers names (Flux, SD 3.5),
// which ComfyUI renames without their FP8 scales, are refused while Qwen-Image, whose ComfyUI
// names are diffusers-like, still converts.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "plan/checkpoint_kind.hpp"
#include "plan/conversion_plan.hpp"
#include "plan/model_families.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/family_headers.hpp"
#include "support/fp8_file_builder.hpp"
#include "support/plan_error.hpp"
#include "support/safetensors_bytes.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

// HiDream-I1 at width 64 (comfy/ldm/hidream/model.py names), with the full-width MoE router
// [4 experts, 2560] so that it is big enough (10240 elements) to be quantized by the bare rule.
const std::vector<ShapeSpec> kHiDream = {
    {"caption_projection.0.linear.weight", {64, 4096}},
    {"caption_projection.48.linear.weight", {64, 4096}},
    {"x_embedder.proj.weight", {64, 64}},
    {"t_embedder.timestep_embedder.linear_1.weight", {64, 256}},
    {"p_embedder.pooled_embedder.linear_1.weight", {64, 2048}},
    {"double_stream_blocks.0.block.adaLN_modulation.1.weight", {768, 64}},
    {"double_stream_blocks.0.block.attn1.to_q.weight", {64, 64}},
    {"double_stream_blocks.0.block.ff_i.gate.weight", {4, 2560}},
    {"double_stream_blocks.0.block.ff_i.experts.0.w1.weight", {256, 64}},
    {"single_stream_blocks.3.block.ff_i.gate.weight", {4, 2560}},
    {"single_stream_blocks.3.block.attn1.to_q.weight", {64, 64}},
    {"final_layer.linear.weight", {64, 64}},
    {"final_layer.adaLN_modulation.1.weight", {128, 64}},
};

// SD 3.5 Large (comfy/ldm/modules/diffusionmodules/mmdit.py names).
const std::vector<ShapeSpec> kSd35Large = {
    {"joint_blocks.0.context_block.attn.qkv.weight", {7296, 2432}},
    {"joint_blocks.0.context_block.attn.ln_q.weight", {64}},
    {"joint_blocks.0.x_block.adaLN_modulation.1.weight", {14592, 2432}},
    {"joint_blocks.0.x_block.mlp.fc1.weight", {9728, 2432}},
    {"x_embedder.proj.weight", {2432, 16, 2, 2}},
    {"pos_embed", {1, 36864, 2432}},
    {"t_embedder.mlp.0.weight", {2432, 256}},
    {"y_embedder.mlp.0.weight", {2432, 2048}},
    {"context_embedder.weight", {2432, 4096}},
    {"final_layer.linear.weight", {64, 2432}},
    {"final_layer.adaLN_modulation.1.weight", {4864, 2432}},
};
const std::vector<ShapeSpec> kSd35Medium = {
    {"joint_blocks.0.context_block.attn.qkv.weight", {4608, 1536}},
    {"joint_blocks.0.context_block.attn.ln_q.weight", {64}},
    {"joint_blocks.0.x_block.attn2.qkv.weight", {4608, 1536}},
    {"x_embedder.proj.weight", {1536, 16, 2, 2}},
    {"context_embedder.weight", {1536, 4096}},
};

// Transformers as diffusers names them (FluxTransformer2DModel, SD3Transformer2DModel).
const std::vector<ShapeSpec> kDiffusersFlux = {
    {"x_embedder.weight", {3072, 64}},
    {"context_embedder.weight", {3072, 4096}},
    {"time_text_embed.timestep_embedder.linear_1.weight", {3072, 256}},
    {"transformer_blocks.0.attn.to_q.weight", {3072, 3072}},
    {"transformer_blocks.0.attn.add_q_proj.weight", {3072, 3072}},
    {"transformer_blocks.0.norm1.linear.weight", {18432, 3072}},
    {"single_transformer_blocks.0.attn.to_q.weight", {3072, 3072}},
    {"single_transformer_blocks.0.proj_mlp.weight", {12288, 3072}},
    {"proj_out.weight", {64, 3072}},
};
const std::vector<ShapeSpec> kDiffusersSd35 = {
    {"pos_embed.proj.weight", {2432, 16, 2, 2}},
    {"context_embedder.weight", {2432, 4096}},
    {"time_text_embed.timestep_embedder.linear_1.weight", {2432, 256}},
    {"transformer_blocks.0.attn.to_q.weight", {2432, 2432}},
    {"transformer_blocks.0.attn.add_q_proj.weight", {2432, 2432}},
    {"transformer_blocks.0.norm1_context.linear.weight", {14592, 2432}},
    {"proj_out.weight", {64, 2432}},
};
// Qwen-Image in ComfyUI's names, which are the diffusers ones.
const std::vector<ShapeSpec> kQwen = {
    {"txt_norm.weight", {3584}},
    {"img_in.weight", {3072, 64}},
    {"txt_in.weight", {3072, 3584}},
    {"transformer_blocks.0.attn.to_q.weight", {3072, 3072}},
    {"transformer_blocks.0.attn.add_q_proj.weight", {3072, 3072}},
    {"transformer_blocks.0.img_mod.1.weight", {18432, 3072}},
    {"proj_out.weight", {64, 3072}},
};

std::string refusal(const std::vector<ShapeSpec>& specs, const std::string& prefix = "") {
  try {
    make_conversion_plan(family_header(specs, prefix), {}, "t.safetensors");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::NotAConversionTarget);
    return error.what();
  }
  FAIL("the plan was made");
  return {};
}

}  // namespace

TEST_CASE("hidream and sd35 are detected from ComfyUI's keys, bare and prefixed",
          "[families][image-a]") {
  for (const std::string prefix : {"", "model.diffusion_model."}) {
    INFO(prefix);
    CHECK(detected(kHiDream, prefix) == "hidream");
    CHECK(detected(kSd35Large, prefix) == "sd35");
    CHECK(detected(kSd35Medium, prefix) == "sd35");
  }
  CHECK(describe_only(kHiDream) ==
        "hidream from caption_projection.0.linear.weight, x_embedder.proj.weight");
  CHECK(describe_only(kSd35Large) ==
        "sd35 from joint_blocks.0.context_block.attn.qkv.weight, x_embedder.proj.weight "
        "(variant: 3.5 Large (38 blocks, 2432 wide))");
  CHECK(describe_only(kSd35Medium) ==
        "sd35 from joint_blocks.0.context_block.attn.qkv.weight, x_embedder.proj.weight "
        "(variant: 3.5 Medium (MMDiT-X: a second attention in the first x blocks))");
  const auto sd3_medium = without(kSd35Medium, "joint_blocks.0.context_block.attn.ln_q.weight");
  CHECK(describe_only(without(sd3_medium, "joint_blocks.0.x_block.attn2.qkv.weight")) ==
        "sd35 from joint_blocks.0.context_block.attn.qkv.weight, x_embedder.proj.weight "
        "(variant: SD 3 Medium (no q/k norm))");
}

TEST_CASE("near-misses are not detected as hidream or sd35", "[families][image-a]") {
  // Each half of a signature alone is nothing (the bare rule with a warning).
  CHECK(detected(without(kHiDream, "x_embedder.proj.weight")) == "");
  CHECK(detected(without(kSd35Large, "x_embedder.proj.weight")) == "");
  CHECK(detected(without(kHiDream, "caption_projection.0.linear.weight")) == "");
  // Both share x_embedder.proj.weight; neither is taken for the other.
  CHECK(detected(kSd35Large) != "hidream");
  CHECK(detected(kHiDream) != "sd35");
  // PixArt's diffusers caption projection is named differently.
  CHECK(detected(std::vector<ShapeSpec>{{"caption_projection.linear_1.weight", {1152, 4096}},
                                   {"x_embedder.proj.weight", {1152, 4, 2, 2}}}) == "");
  // The Flux layout is not HiDream, though HiDream reuses Flux's final layer.
  CHECK(detected(std::vector<ShapeSpec>{{"double_blocks.0.img_attn.norm.key_norm.scale", {128}},
                                   {"img_in.weight", {64, 64}},
                                   {"time_in.in_layer.weight", {64, 256}},
                                   {"final_layer.linear.weight", {64, 64}}}) == "flux1");
}

TEST_CASE("hidream keeps its embedders, caption projections, MoE routers and final layer",
          "[families][image-a]") {
  const ConversionPlan plan = make_conversion_plan(family_header(kHiDream), {}, "in");
  CHECK(reason(plan, "x_embedder.proj.weight") == "keep: hidream preset (x_embedder.proj)");
  CHECK(reason(plan, "t_embedder.timestep_embedder.linear_1.weight") ==
        "keep: hidream preset (t_embedder.*)");
  CHECK(reason(plan, "p_embedder.pooled_embedder.linear_1.weight") ==
        "keep: hidream preset (p_embedder.*)");
  CHECK(reason(plan, "caption_projection.48.linear.weight") ==
        "keep: hidream preset (caption_projection.*)");
  CHECK(reason(plan, "double_stream_blocks.0.block.ff_i.gate.weight") ==
        "keep: hidream preset (double_stream_blocks.*.block.ff_i.gate)");
  CHECK(reason(plan, "single_stream_blocks.3.block.ff_i.gate.weight") ==
        "keep: hidream preset (single_stream_blocks.*.block.ff_i.gate)");
  CHECK(reason(plan, "final_layer.adaLN_modulation.1.weight") ==
        "keep: hidream preset (final_layer.*)");
  CHECK(decision_for(plan, "double_stream_blocks.0.block.adaLN_modulation.1.weight").quantize);
  CHECK(decision_for(plan, "double_stream_blocks.0.block.attn1.to_q.weight").quantize);
  CHECK(decision_for(plan, "double_stream_blocks.0.block.ff_i.experts.0.w1.weight").quantize);
  CHECK(decision_for(plan, "single_stream_blocks.3.block.attn1.to_q.weight").quantize);
}

TEST_CASE("sd35 keeps its embedders and final layer, quantizes the joint blocks",
          "[families][image-a]") {
  const ConversionPlan plan =
      make_conversion_plan(family_header(kSd35Large, "model.diffusion_model."), {}, "in");
  const std::string p = "model.diffusion_model.";
  CHECK(reason(plan, p + "t_embedder.mlp.0.weight") == "keep: sd35 preset (t_embedder.*)");
  CHECK(reason(plan, p + "y_embedder.mlp.0.weight") == "keep: sd35 preset (y_embedder.*)");
  CHECK(reason(plan, p + "context_embedder.weight") == "keep: sd35 preset (context_embedder)");
  CHECK(reason(plan, p + "final_layer.linear.weight") == "keep: sd35 preset (final_layer.*)");
  CHECK(decision_for(plan, p + "joint_blocks.0.context_block.attn.qkv.weight").quantize);
  CHECK(decision_for(plan, p + "joint_blocks.0.x_block.adaLN_modulation.1.weight").quantize);
  CHECK(decision_for(plan, p + "joint_blocks.0.x_block.mlp.fc1.weight").quantize);
  CHECK_FALSE(decision_for(plan, p + "x_embedder.proj.weight").quantize);  // 4-D
  CHECK_FALSE(decision_for(plan, p + "pos_embed").quantize);               // 3-D, no .weight
}

TEST_CASE("diffusers-named Flux and SD 3.5 transformers are refused, bare and prefixed",
          "[families][image-a][kind]") {
  CHECK(refusal(kDiffusersFlux) ==
        "'t.safetensors' is a diffusers-format transformer (Flux.1 in diffusers names: "
        "'transformer_blocks.0.attn.to_q.weight' and 1 more signature tensors), not in "
        "ComfyUI's names: ComfyUI renames a diffusers transformer as it loads it "
        "(comfy/utils.py, flux_to_diffusers), fusing to_q/to_k/to_v and dropping every "
        ".weight_scale and .comfy_quant, so its FP8 weights would be used unscaled; convert "
        "the ComfyUI-format file instead: flux1-dev.safetensors (or flux1-schnell, "
        "flux1-kontext-dev, flux1-krea-dev) from black-forest-labs, or Comfy-Org's repackaged "
        "single file");
  CHECK(refusal(kDiffusersFlux, "model.diffusion_model.")
            .find("is a diffusers-format transformer (Flux.1 in diffusers names") !=
        std::string::npos);
  const std::string sd35 = refusal(kDiffusersSd35);
  CHECK(sd35.find("is a diffusers-format transformer (SD 3.5 in diffusers names: "
                  "'pos_embed.proj.weight' and 1 more signature tensors)") != std::string::npos);
  CHECK(sd35.find("(comfy/utils.py, mmdit_to_diffusers)") != std::string::npos);
  CHECK(sd35.find("sd3.5_large.safetensors or sd3.5_medium.safetensors from stabilityai") !=
        std::string::npos);
  const auto flux2 = kDiffusersFlux + std::vector<ShapeSpec>{
                                          {"double_stream_modulation_img.linear.weight", {18432, 3072}}};
  CHECK(refusal(flux2).find("(Flux.2 in diffusers names") != std::string::npos);
  const auto chroma = kDiffusersFlux + std::vector<ShapeSpec>{
                                           {"distilled_guidance_layer.in_proj.weight", {5120, 64}}};
  CHECK(refusal(chroma).find("(Chroma in diffusers names") != std::string::npos);
  // A forced preset does not make such a file loadable.
  PlanOptions forced;
  forced.preset = preset_from_name("flux1");
  CHECK(plan_error_code(family_header(kDiffusersFlux), forced) == ErrorCode::NotAConversionTarget);
}

TEST_CASE("Qwen-Image, whose ComfyUI names are diffusers-like, is converted, not refused",
          "[families][image-a][kind]") {
  CHECK(classify_checkpoint(family_header(kQwen)).kind == CheckpointKind::Model);
  CHECK(detected(kQwen) == "qwen-image");
  CHECK(detected(kQwen, "model.diffusion_model.") == "qwen-image");
  // Lumina 2 / Z-Image's ComfyUI names have an x_embedder.weight, but no diffusers blocks.
  CHECK(classify_checkpoint(family_header({{"x_embedder.weight", {3840, 64}},
                                           {"cap_embedder.1.weight", {3840, 2560}},
                                           {"layers.0.attention.qkv.weight", {11520, 3840}}}))
            .kind == CheckpointKind::Model);
  // Each half of a diffusers signature alone stays a model.
  CHECK(classify_checkpoint(family_header(without(kDiffusersFlux, "x_embedder.weight"))).kind ==
        CheckpointKind::Model);
  CHECK(classify_checkpoint(family_header(without(kDiffusersSd35, "pos_embed.proj.weight")))
            .kind == CheckpointKind::Model);
}

TEST_CASE("convert refuses a diffusers Flux file with exit 2 and no output; Qwen-Image converts",
          "[families][image-a][kind][convert]") {
  const std::string dir = scratch_dir("diffusers_flux");
  FileImage flux;
  flux.put(bf16_tensor("x_embedder.weight", {64, 64}, sample_weights(64 * 64, 1)));
  flux.put(bf16_tensor("transformer_blocks.0.attn.to_q.weight", {64, 64}, sample_weights(64 * 64, 2)));
  flux.put(bf16_tensor("single_transformer_blocks.0.attn.to_q.weight", {64, 64},
                       sample_weights(64 * 64, 3)));
  const std::string in = write_image(dir + "/transformer.safetensors", flux);
  const std::string out = dir + "/out.safetensors";
  remove_path(out);
  const ChildResult result = run_child({QFP8_BINARY, "convert", in, out}, dir);
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("'" + in + "' is a diffusers-format transformer (Flux.1 in diffusers "
                        "names") != std::string::npos);
  CHECK(result.err.find("convert the ComfyUI-format file instead: flux1-dev.safetensors") !=
        std::string::npos);
  CHECK_FALSE(path_exists(out));

  FileImage qwen;
  qwen.put(bf16_tensor("txt_norm.weight", {64}, sample_weights(64, 4)));
  qwen.put(bf16_tensor("img_in.weight", {64, 64}, sample_weights(64 * 64, 5)));
  qwen.put(bf16_tensor("transformer_blocks.0.attn.to_q.weight", {64, 64}, sample_weights(64 * 64, 6)));
  qwen.put(bf16_tensor("transformer_blocks.0.attn.add_q_proj.weight", {64, 64},
                       sample_weights(64 * 64, 7)));
  const std::string qwen_in = write_image(dir + "/qwen.safetensors", qwen);
  const ChildResult converted = run_child({QFP8_BINARY, "convert", qwen_in, out}, dir);
  INFO(converted.err);
  CHECK(converted.exit_code == 0);
  CHECK(path_exists(out));
}
