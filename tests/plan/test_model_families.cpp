// test_model_families.cpp — the model-family registry (docs/models.md#families): each family's
// signature detects it (bare and `model.diffusion_model.`-prefixed), near-misses do not, two
// matching families are ambiguous (bare rule + warning), keep decisions with their literal
// reasons, and `--preset list` / the detection log through the binary.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "plan/conversion_plan.hpp"
#include "plan/model_families.hpp"
#include "support/child_process.hpp"
#include "support/family_headers.hpp"
#include "support/safetensors_bytes.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

// Representative layers at a narrow width (64); big enough (>= 4096 elements) to be quantized.
const std::vector<ShapeSpec> kQwen = {
    {"txt_norm.weight", {80}},
    {"img_in.weight", {64, 64}},
    {"txt_in.weight", {64, 80}},
    {"time_text_embed.timestep_embedder.linear_1.weight", {64, 256}},
    {"transformer_blocks.0.img_mod.1.weight", {384, 64}},
    {"transformer_blocks.0.attn.to_q.weight", {64, 64}},
    {"norm_out.linear.weight", {128, 64}},
    {"proj_out.weight", {64, 64}},
};
const std::vector<ShapeSpec> kFluxSchnell = {
    {"double_blocks.0.img_attn.norm.key_norm.scale", {128}},
    {"double_blocks.0.img_attn.qkv.weight", {192, 64}},
    {"double_blocks.0.img_mod.lin.weight", {384, 64}},
    {"single_blocks.0.linear1.weight", {448, 64}},
    {"img_in.weight", {64, 64}},
    {"txt_in.weight", {64, 4096}},
    {"time_in.in_layer.weight", {64, 256}},
    {"time_in.out_layer.weight", {64, 64}},
    {"vector_in.in_layer.weight", {64, 768}},
    {"final_layer.adaLN_modulation.1.weight", {128, 64}},
    {"final_layer.linear.weight", {64, 64}},
};
const std::vector<ShapeSpec> kGuidance = {{"guidance_in.in_layer.weight", {64, 256}}};
const std::vector<ShapeSpec> kFlux2 = {
    {"double_blocks.0.img_attn.norm.key_norm.scale", {128}},
    {"double_blocks.0.img_attn.qkv.weight", {192, 64}},
    {"double_stream_modulation_img.lin.weight", {384, 64}},
    {"single_stream_modulation.lin.weight", {192, 64}},
    {"img_in.weight", {64, 128}},
    {"time_in.in_layer.weight", {64, 256}},
};
const std::vector<ShapeSpec> kChroma = {
    {"double_blocks.0.img_attn.norm.key_norm.scale", {128}},
    {"double_blocks.0.img_attn.qkv.weight", {192, 64}},
    {"distilled_guidance_layer.norms.0.scale", {64}},
    {"distilled_guidance_layer.layers.0.in_layer.weight", {64, 64}},
    {"img_in.weight", {64, 64}},
    {"txt_in.weight", {64, 4096}},
};
const std::vector<ShapeSpec> kWanT2v = {
    {"head.modulation", {1, 2, 64}},
    {"head.head.weight", {64, 64}},
    {"patch_embedding.weight", {64, 16, 1, 2, 2}},
    {"blocks.0.modulation", {1, 6, 64}},
    {"blocks.0.self_attn.q.weight", {64, 64}},
    {"text_embedding.0.weight", {64, 4096}},
    {"time_embedding.0.weight", {64, 256}},
    {"time_projection.1.weight", {384, 64}},
};
const std::vector<ShapeSpec> kWanI2v = {{"img_emb.proj.0.bias", {1280}},
                                   {"img_emb.proj.1.weight", {1280, 1280}}};

}  // namespace

TEST_CASE("each family's signature detects it, bare and prefixed", "[families]") {
  for (const std::string prefix : {"", "model.diffusion_model."}) {
    INFO(prefix);
    CHECK(detected(kQwen, prefix) == "qwen-image");
    CHECK(detected(kFluxSchnell + kGuidance, prefix) == "flux1");
    CHECK(detected(kFlux2, prefix) == "flux2");
    CHECK(detected(kChroma, prefix) == "chroma");
    CHECK(detected(kWanT2v, prefix) == "wan");
  }
  CHECK(describe_only(kQwen) == "qwen-image from txt_norm.weight");
  CHECK(describe_only(kFluxSchnell + kGuidance) ==
        "flux1 from double_blocks.0.img_attn.norm.key_norm.scale, img_in.weight, "
        "time_in.in_layer.weight (variant: guidance-distilled: dev, Kontext or Krea)");
  CHECK(describe_only(kWanT2v + kWanI2v) ==
        "wan from head.modulation, patch_embedding.weight (variant: I2V/FLF2V (img_emb))");
}

TEST_CASE("near-misses are not detected as the family", "[families]") {
  // Flux.1 schnell has no guidance_in: still Flux.1.
  CHECK(detected(kFluxSchnell) == "flux1");
  CHECK(describe_only(kFluxSchnell).find("(variant: schnell (no guidance_in))") != std::string::npos);
  // A Qwen-Image header has img_in and txt_in, but no Flux double blocks.
  CHECK(detected(kQwen) != "flux1");
  // Flux.2 and Chroma share the Flux layout, but are not Flux.1.
  CHECK(detected(kFlux2) != "flux1");
  CHECK(detected(kChroma) != "flux1");
  // A Flux-layout model with a txt_norm (Ovis-Image) is loaded as Flux, not as Qwen-Image.
  CHECK(detected(kFluxSchnell + std::vector<ShapeSpec>{{"txt_norm.weight", {64}}}) == "flux1");
  // HunyuanVideo's double blocks, time_in and vector_in, with its token refiner: not Flux.1
  // but HunyuanVideo, which ComfyUI checks first.
  CHECK(detected(kFluxSchnell + std::vector<ShapeSpec>{
                     {"txt_in.individual_token_refiner.blocks.0.norm1.weight", {64}}}) == "hunyuan-video");
  // Wan's modulation without its patch embedding, and Wan 2.2 5B's head with 48 channels.
  std::vector<ShapeSpec> no_patch(kWanT2v.begin(), kWanT2v.end());
  no_patch.erase(no_patch.begin() + 2);
  CHECK(detected(no_patch) == "");
  std::vector<ShapeSpec> five_b = kWanT2v;
  five_b[1].shape = {192, 64};
  CHECK(describe_only(five_b).find("Wan 2.2 TI2V 5B") != std::string::npos);
  CHECK(describe_only(kWanT2v).find("5B") == std::string::npos);
}

TEST_CASE("two matching families are ambiguous: the bare rule applies", "[families]") {
  const ConversionPlan plan =
      make_conversion_plan(family_header(kFluxSchnell + kWanT2v), {}, "in");
  CHECK(plan.detected_model.empty());
  CHECK(plan.applied_preset == Preset::None);
  REQUIRE(plan.detection.matches.size() == 2);
  CHECK(std::string(plan.detection.matches[0].family->name) == "flux1");
  CHECK(std::string(plan.detection.matches[1].family->name) == "wan");
  CHECK(reason(plan, "img_in.weight") == "quantize");
  CHECK(reason(plan, "text_embedding.0.weight") == "quantize");
}

TEST_CASE("family keep lists, with the reason the dry run prints", "[families]") {
  const ConversionPlan flux = make_conversion_plan(family_header(kFluxSchnell + kGuidance), {}, "in");
  CHECK(reason(flux, "img_in.weight") == "keep: flux1 preset (img_in)");
  CHECK(reason(flux, "txt_in.weight") == "keep: flux1 preset (txt_in)");
  CHECK(reason(flux, "time_in.in_layer.weight") == "keep: flux1 preset (time_in.*)");
  CHECK(reason(flux, "vector_in.in_layer.weight") == "keep: flux1 preset (vector_in.*)");
  CHECK(reason(flux, "guidance_in.in_layer.weight") == "keep: flux1 preset (guidance_in.*)");
  CHECK(reason(flux, "final_layer.linear.weight") == "keep: flux1 preset (final_layer.*)");
  CHECK(reason(flux, "final_layer.adaLN_modulation.1.weight") == "keep: flux1 preset (final_layer.*)");
  CHECK(reason(flux, "double_blocks.0.img_mod.lin.weight") == "quantize");
  CHECK(reason(flux, "double_blocks.0.img_attn.qkv.weight") == "quantize");
  CHECK(reason(flux, "single_blocks.0.linear1.weight") == "quantize");

  const ConversionPlan flux2 = make_conversion_plan(family_header(kFlux2), {}, "in");
  CHECK(reason(flux2, "double_stream_modulation_img.lin.weight") ==
        "keep: flux2 preset (double_stream_modulation_img.*)");
  CHECK(reason(flux2, "single_stream_modulation.lin.weight") ==
        "keep: flux2 preset (single_stream_modulation.*)");
  CHECK(reason(flux2, "double_blocks.0.img_attn.qkv.weight") == "quantize");

  const ConversionPlan chroma = make_conversion_plan(family_header(kChroma), {}, "in");
  CHECK(reason(chroma, "distilled_guidance_layer.layers.0.in_layer.weight") ==
        "keep: chroma preset (distilled_guidance_layer.*)");
  CHECK(reason(chroma, "txt_in.weight") == "keep: chroma preset (txt_in)");
  CHECK(reason(chroma, "double_blocks.0.img_attn.qkv.weight") == "quantize");

  const std::string p = "model.diffusion_model.";
  const ConversionPlan wan = make_conversion_plan(family_header(kWanT2v + kWanI2v, p), {}, "in");
  CHECK(reason(wan, p + "text_embedding.0.weight") == "keep: wan preset (text_embedding.*)");
  CHECK(reason(wan, p + "time_embedding.0.weight") == "keep: wan preset (time_embedding.*)");
  CHECK(reason(wan, p + "time_projection.1.weight") == "keep: wan preset (time_projection.*)");
  CHECK(reason(wan, p + "img_emb.proj.1.weight") == "keep: wan preset (img_emb.*)");
  CHECK(reason(wan, p + "head.head.weight") == "keep: wan preset (head.head)");
  CHECK(reason(wan, p + "patch_embedding.weight") == "keep: 5-D");
  CHECK(reason(wan, p + "blocks.0.modulation") == "keep: not .weight");
  CHECK(reason(wan, p + "blocks.0.self_attn.q.weight") == "quantize");

  // The Qwen-Image reasons are unchanged by the registry.
  const ConversionPlan qwen = make_conversion_plan(family_header(kQwen), {}, "in");
  CHECK(reason(qwen, "img_in.weight") == "keep: qwen-image preset (img_in)");
  CHECK(reason(qwen, "time_text_embed.timestep_embedder.linear_1.weight") ==
        "keep: qwen-image preset (time_text_embed.*)");
  CHECK(reason(qwen, "transformer_blocks.0.attn.to_q.weight") == "quantize");
}

TEST_CASE("a forced --preset NAME applies that family; an unknown name lists the names", "[families]") {
  PlanOptions forced;
  forced.preset = preset_from_name("wan");
  const ConversionPlan plan = make_conversion_plan(family_header(kFluxSchnell), forced, "in");
  CHECK(plan.detected_model == "flux1");
  CHECK(std::string(preset_name(plan.applied_preset)) == "wan");
  CHECK(reason(plan, "img_in.weight") == "quantize");
  try {
    preset_from_name("flux");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::Usage);
    CHECK(std::string(error.what()).find(model_family_names()) != std::string::npos);
    CHECK(std::string(error.what()).find("qwen-image, flux1, flux2, chroma, ") != std::string::npos);
  }
}

namespace {

/// Writes `specs` as a BF16 safetensors file of zeros (a dry run reads no values).
std::string write_model(const std::string& path, const std::vector<ShapeSpec>& specs) {
  std::string header = "{";
  uint64_t offset = 0;
  for (const auto& spec : specs) {
    uint64_t bytes = 2;
    std::string shape;
    for (const auto dim : spec.shape) {
      bytes *= dim;
      shape += (shape.empty() ? "" : ",") + std::to_string(dim);
    }
    header += (offset == 0 ? "\"" : ",\"") + spec.name + "\":{\"dtype\":\"BF16\",\"shape\":[" +
              shape + "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  write_file(path, safetensors_image(padded(header), Bytes(offset, 0)));
  return path;
}

ChildResult run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), QFP8_BINARY);
  return run_child(args, process_scratch_root());
}

}  // namespace

TEST_CASE("the preset table (--preset list) prints every family, what it matches and keeps", "[families][cli]") {
  const ChildResult result = run_cli({"convert", "--preset", "list"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  for (const auto& family : model_families()) {
    CHECK(result.out.find("\n" + std::string(family.name) + "  ") != std::string::npos);
  }
  CHECK(result.out.find("  matches: txt_norm.weight;") != std::string::npos);
  CHECK(result.out.find("    guidance_in.*  guidance embedder") != std::string::npos);
  CHECK(result.out.find("  keep list: convert_to_quant --wan") != std::string::npos);
}

TEST_CASE("the log names the detected family and its tensors; no or two matches warn",
          "[families][cli]") {
  const std::string flux = write_model(temp_path("flux1.safetensors"), kFluxSchnell);
  const ChildResult detected = run_cli({"convert", flux, temp_path("flux1-out.safetensors"),
                                        "--device", "cpu"});
  INFO(detected.err);
  REQUIRE(detected.exit_code == 0);
  CHECK(detected.err.find("info: '" + flux + "': model family flux1 from double_blocks.0.img_attn."
                          "norm.key_norm.scale, img_in.weight, time_in.in_layer.weight (variant: "
                          "schnell (no guidance_in)); preset flux1\n") != std::string::npos);
  CHECK(detected.err.find("warning") == std::string::npos);

  const std::string both = write_model(temp_path("both.safetensors"), kFluxSchnell + kWanT2v);
  const ChildResult ambiguous = run_cli({"convert", both, "--dry-run"});
  INFO(ambiguous.err);
  REQUIRE(ambiguous.exit_code == 0);
  CHECK(ambiguous.out.find("model: ambiguous (flux1, wan), preset: none\n") == 0);
  CHECK(ambiguous.err.find("warning: '" + both + "': ambiguous model family, several match (flux1 "
                           "from ") != std::string::npos);
  CHECK(ambiguous.err.find("using the bare rule") != std::string::npos);

  const std::string other = write_model(temp_path("other.safetensors"),
                                        {{"blocks.0.attn.to_q.weight", {64, 64}}});
  const ChildResult unknown = run_cli({"convert", other, "--dry-run"});
  INFO(unknown.err);
  REQUIRE(unknown.exit_code == 0);
  CHECK(unknown.out.find("model: generic, preset: none\n") == 0);
  CHECK(unknown.err.find("warning: '" + other + "': no model family matches its tensor names (" +
                         model_family_names() + "); using the bare rule") != std::string::npos);
  // Forced: no warning, the user decided.
  const ChildResult forced = run_cli({"convert", other, "--dry-run", "--preset", "none"});
  CHECK(forced.err.find("warning") == std::string::npos);
}
