// test_family_end_to_end_image_a.cpp — Flux.1, Flux.2, Chroma, HiDream and SD 3.5 synthetic
// checkpoints through synth, convert (defaults: --preset auto) and verify --against. The kept
// layers are written out here from each model's definition (docs/models.md#families), not taken
// from the registry; at the widths used every 2-D weight listed is eligible (>= 4096 elements).
#include <catch2/catch.hpp>

#include "support/family_end_to_end.hpp"

using namespace qfp8::test;

namespace {

bool logged(const FamilyConversion& run, const std::string& text) {
  return run.convert_log.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("flux1 end to end: detected as dev, keeps embedders and final layer", "[families][e2e]") {
  const FamilyConversion run = convert_synthetic_family("flux1", {"--blocks", "2", "--width-div", "16"});
  CHECK(logged(run, "model family flux1 from double_blocks.0.img_attn.norm.key_norm.scale, "
                    "img_in.weight, time_in.in_layer.weight (variant: guidance-distilled"));
  const std::set<std::string> kept = {
      "img_in", "txt_in", "time_in.in_layer", "time_in.out_layer", "vector_in.in_layer",
      "vector_in.out_layer", "guidance_in.in_layer", "guidance_in.out_layer",
      "final_layer.adaLN_modulation.1", "final_layer.linear"};
  CHECK(run.kept == kept);
  CHECK(run.quantized.count("double_blocks.0.img_mod.lin") == 1);
  CHECK(run.quantized.count("single_blocks.3.linear1") == 1);
  // 2 double blocks x 10 Linears (mod, qkv, proj, 2 MLP; image and text) + 4 single x 3.
  CHECK(run.quantized.size() == 2 * 10 + 4 * 3);
}

TEST_CASE("flux2 end to end: keeps the shared modulation, embedders and final layer",
          "[families][e2e]") {
  const FamilyConversion run = convert_synthetic_family("flux2", {"--blocks", "1", "--width-div", "16"});
  CHECK(logged(run, "model family flux2 from double_blocks.0.img_attn.norm.key_norm.scale, "
                    "double_stream_modulation_img.lin.weight"));
  const std::set<std::string> kept = {
      "img_in", "txt_in", "time_in.in_layer", "time_in.out_layer", "guidance_in.in_layer",
      "guidance_in.out_layer", "double_stream_modulation_img.lin", "double_stream_modulation_txt.lin",
      "single_stream_modulation.lin", "final_layer.adaLN_modulation.1", "final_layer.linear"};
  CHECK(run.kept == kept);
  // 1 double block x 8 Linears (qkv, proj, 2 MLP; image and text) + 6 single x 2.
  CHECK(run.quantized.size() == 8 + 6 * 2);
}

TEST_CASE("chroma end to end: keeps the distilled guidance layer, embedders and final layer",
          "[families][e2e]") {
  const FamilyConversion run = convert_synthetic_family("chroma", {"--blocks", "2", "--width-div", "16"});
  CHECK(logged(run, "model family chroma from double_blocks.0.img_attn.norm.key_norm.scale, "
                    "img_in.weight, distilled_guidance_layer.norms.0.scale"));
  std::set<std::string> kept = {"img_in", "txt_in", "distilled_guidance_layer.in_proj",
                                "distilled_guidance_layer.out_proj", "final_layer.linear"};
  for (int layer = 0; layer < 5; ++layer) {
    kept.insert("distilled_guidance_layer.layers." + std::to_string(layer) + ".in_layer");
    kept.insert("distilled_guidance_layer.layers." + std::to_string(layer) + ".out_layer");
  }
  CHECK(run.kept == kept);
  // No per-block modulation: 2 double x 8 + 4 single x 2.
  CHECK(run.quantized.size() == 2 * 8 + 4 * 2);
}

TEST_CASE("hidream end to end: keeps embedders, caption projections and final layer",
          "[families][e2e]") {
  const FamilyConversion run = convert_synthetic_family("hidream", {"--blocks", "1", "--width-div", "16"});
  CHECK(logged(run, "model family hidream from caption_projection.0.linear.weight, "
                    "x_embedder.proj.weight"));
  // 1 double + 2 single blocks: caption projections 0..3. The MoE routers ([4, 160] = 640
  // elements at this width) are below the size threshold; the planner test covers them.
  const std::set<std::string> kept = {
      "x_embedder.proj", "t_embedder.timestep_embedder.linear_1",
      "t_embedder.timestep_embedder.linear_2", "p_embedder.pooled_embedder.linear_1",
      "p_embedder.pooled_embedder.linear_2", "caption_projection.0.linear",
      "caption_projection.1.linear", "caption_projection.2.linear", "caption_projection.3.linear",
      "final_layer.linear", "final_layer.adaLN_modulation.1"};
  CHECK(run.kept == kept);
  // Double: modulation, 8 attention, 3 shared + 12 routed expert, 3 text MLP = 27;
  // single: modulation, 4 attention, 3 + 12 expert = 20.
  CHECK(run.quantized.size() == 27 + 2 * 20);
  CHECK(run.quantized.count("double_stream_blocks.0.block.ff_i.experts.3.w2") == 1);
}

TEST_CASE("sd35 end to end: keeps embedders and final layer, quantizes the joint blocks",
          "[families][e2e]") {
  const FamilyConversion run = convert_synthetic_family("sd35", {"--blocks", "2"});
  CHECK(logged(run, "model family sd35 from joint_blocks.0.context_block.attn.qkv.weight, "
                    "x_embedder.proj.weight"));
  const std::set<std::string> kept = {"t_embedder.mlp.0", "t_embedder.mlp.2", "y_embedder.mlp.0",
                                      "y_embedder.mlp.2", "context_embedder",
                                      "final_layer.adaLN_modulation.1", "final_layer.linear"};
  CHECK(run.kept == kept);
  // Block 0: 5 Linears per stream; block 1's context block is pre-only (modulation, qkv).
  CHECK(run.quantized.size() == 2 * 5 + 2 + 5);
  CHECK(run.quantized.count("joint_blocks.1.context_block.attn.qkv") == 1);
  CHECK(run.all_layers.count("joint_blocks.1.context_block.attn.proj") == 0);
}
