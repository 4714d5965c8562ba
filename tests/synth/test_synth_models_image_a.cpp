// test_synth_models_image_a.cpp — the shape tables of `synth --model` flux1, flux2, chroma,
// hidream and sd35, in process (no file is written): tensor counts at full depth and a few
// exact full-width shapes, written out from the published models' layouts as ComfyUI names
// them (comfy/ldm/flux, chroma, hidream, modules/diffusionmodules/mmdit.py).
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "synth/synth_models.hpp"

namespace {

using Shape = std::vector<uint64_t>;

std::map<std::string, Shape> table_of(const std::string& model, unsigned blocks = 0,
                                      unsigned width_div = 1) {
  qfp8::SynthConfig config;
  config.model = model;
  config.blocks = blocks;
  config.width_div = width_div;
  std::map<std::string, Shape> table;
  for (const auto& tensor : qfp8::synth_tensors(config)) {
    INFO(tensor.name);
    CHECK(table.count(tensor.name) == 0);
    table[tensor.name] = tensor.shape;
  }
  return table;
}

Shape shape_of(const std::map<std::string, Shape>& table, const std::string& name) {
  INFO(name);
  const auto found = table.find(name);
  REQUIRE(found != table.end());
  return found->second;
}

std::size_t count_suffix(const std::map<std::string, Shape>& table, const std::string& suffix) {
  std::size_t count = 0;
  for (const auto& entry : table) {
    const std::string& name = entry.first;
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("synth flux1: Flux.1 dev's 780 tensors at full size", "[synth][image-a]") {
  const auto t = table_of("flux1");
  // 20 embedder/final tensors + 19 double blocks x 24 + 38 single blocks x 8.
  CHECK(t.size() == 780);
  CHECK(shape_of(t, "img_in.weight") == Shape{3072, 64});
  CHECK(shape_of(t, "vector_in.in_layer.weight") == Shape{3072, 768});
  CHECK(shape_of(t, "guidance_in.in_layer.weight") == Shape{3072, 256});
  CHECK(shape_of(t, "double_blocks.18.img_mod.lin.weight") == Shape{18432, 3072});
  CHECK(shape_of(t, "double_blocks.18.txt_mlp.0.weight") == Shape{12288, 3072});
  CHECK(shape_of(t, "double_blocks.0.img_attn.norm.key_norm.scale") == Shape{128});
  CHECK(shape_of(t, "single_blocks.37.linear1.weight") == Shape{21504, 3072});
  CHECK(shape_of(t, "single_blocks.37.linear2.weight") == Shape{3072, 15360});
  CHECK(shape_of(t, "final_layer.linear.weight") == Shape{64, 3072});
  CHECK(t.count("single_blocks.38.linear1.weight") == 0);
  // --blocks N: N double and 2N single blocks.
  const auto small = table_of("flux1", 2);
  CHECK(small.count("double_blocks.1.img_attn.qkv.weight") == 1);
  CHECK(small.count("double_blocks.2.img_attn.qkv.weight") == 0);
  CHECK(small.count("single_blocks.3.linear1.weight") == 1);
  CHECK(small.count("single_blocks.4.linear1.weight") == 0);
}

TEST_CASE("synth flux2: Flux.2 dev without biases, shared modulation", "[synth][image-a]") {
  const auto t = table_of("flux2");
  // 11 embedder/modulation/final tensors + 8 double blocks x 12 + 48 single x 4.
  CHECK(t.size() == 299);
  CHECK(count_suffix(t, ".bias") == 0);
  CHECK(shape_of(t, "img_in.weight") == Shape{6144, 128});
  CHECK(shape_of(t, "txt_in.weight") == Shape{6144, 15360});
  CHECK(shape_of(t, "double_stream_modulation_img.lin.weight") == Shape{36864, 6144});
  CHECK(shape_of(t, "single_stream_modulation.lin.weight") == Shape{18432, 6144});
  CHECK(shape_of(t, "double_blocks.7.img_mlp.0.weight") == Shape{36864, 6144});
  CHECK(shape_of(t, "double_blocks.7.img_mlp.2.weight") == Shape{6144, 18432});
  CHECK(shape_of(t, "single_blocks.47.linear1.weight") == Shape{55296, 6144});
  CHECK(shape_of(t, "single_blocks.47.linear2.weight") == Shape{6144, 24576});
  CHECK(shape_of(t, "final_layer.linear.weight") == Shape{128, 6144});
  CHECK(t.count("double_blocks.0.img_mod.lin.weight") == 0);
  CHECK(table_of("flux2", 1).count("single_blocks.5.linear1.weight") == 1);
}

TEST_CASE("synth chroma: Flux.1 blocks without modulation and the distilled guidance layer",
          "[synth][image-a]") {
  const auto t = table_of("chroma");
  // 35 embedder/approximator/final tensors + 19 double x 20 + 38 single x 6.
  CHECK(t.size() == 643);
  CHECK(shape_of(t, "img_in.weight") == Shape{3072, 64});
  CHECK(shape_of(t, "distilled_guidance_layer.in_proj.weight") == Shape{5120, 64});
  CHECK(shape_of(t, "distilled_guidance_layer.layers.4.out_layer.weight") == Shape{5120, 5120});
  CHECK(shape_of(t, "distilled_guidance_layer.norms.4.scale") == Shape{5120});
  CHECK(shape_of(t, "distilled_guidance_layer.out_proj.weight") == Shape{3072, 5120});
  CHECK(shape_of(t, "final_layer.linear.weight") == Shape{64, 3072});
  CHECK(t.count("final_layer.adaLN_modulation.1.weight") == 0);
  CHECK(t.count("single_blocks.0.modulation.lin.weight") == 0);
  CHECK(t.count("time_in.in_layer.weight") == 0);
}

TEST_CASE("synth hidream: HiDream-I1's MoE blocks and 49 caption projections",
          "[synth][image-a]") {
  const auto t = table_of("hidream");
  // 63 embedder/projection/final tensors + 16 double blocks x 41 + 32 single x 28.
  CHECK(t.size() == 1615);
  CHECK(shape_of(t, "x_embedder.proj.weight") == Shape{2560, 64});
  CHECK(shape_of(t, "p_embedder.pooled_embedder.linear_1.weight") == Shape{2560, 2048});
  CHECK(shape_of(t, "caption_projection.48.linear.weight") == Shape{2560, 4096});
  CHECK(t.count("caption_projection.49.linear.weight") == 0);
  CHECK(shape_of(t, "double_stream_blocks.15.block.adaLN_modulation.1.weight") == Shape{30720, 2560});
  CHECK(shape_of(t, "double_stream_blocks.15.block.ff_i.experts.3.w1.weight") == Shape{6912, 2560});
  CHECK(shape_of(t, "double_stream_blocks.15.block.ff_i.shared_experts.w2.weight") == Shape{2560, 3584});
  CHECK(shape_of(t, "double_stream_blocks.0.block.ff_i.gate.weight") == Shape{4, 2560});
  CHECK(shape_of(t, "double_stream_blocks.0.block.ff_t.w3.weight") == Shape{6912, 2560});
  CHECK(shape_of(t, "double_stream_blocks.0.block.attn1.q_rms_norm_t.weight") == Shape{2560});
  CHECK(shape_of(t, "single_stream_blocks.31.block.adaLN_modulation.1.weight") == Shape{15360, 2560});
  CHECK(t.count("single_stream_blocks.0.block.attn1.to_q_t.weight") == 0);
  CHECK(shape_of(t, "final_layer.adaLN_modulation.1.weight") == Shape{5120, 2560});
}

TEST_CASE("synth sd35: SD 3.5 Large at 38 blocks; width follows depth", "[synth][image-a]") {
  const auto t = table_of("sd35");
  // 17 embedder/final tensors + 37 joint blocks x 24 + the last (pre-only context) x 18.
  CHECK(t.size() == 923);
  CHECK(shape_of(t, "x_embedder.proj.weight") == Shape{2432, 16, 2, 2});
  CHECK(shape_of(t, "pos_embed") == Shape{1, 36864, 2432});
  CHECK(shape_of(t, "context_embedder.weight") == Shape{2432, 4096});
  CHECK(shape_of(t, "y_embedder.mlp.0.weight") == Shape{2432, 2048});
  CHECK(shape_of(t, "joint_blocks.0.x_block.adaLN_modulation.1.weight") == Shape{14592, 2432});
  CHECK(shape_of(t, "joint_blocks.0.x_block.mlp.fc1.weight") == Shape{9728, 2432});
  CHECK(shape_of(t, "joint_blocks.0.context_block.attn.ln_q.weight") == Shape{64});
  CHECK(shape_of(t, "joint_blocks.37.context_block.adaLN_modulation.1.weight") == Shape{4864, 2432});
  CHECK(t.count("joint_blocks.37.context_block.mlp.fc1.weight") == 0);
  CHECK(shape_of(t, "final_layer.linear.weight") == Shape{64, 2432});
  // ComfyUI reads depth = x_embedder rows / 64: two blocks are 128 wide.
  CHECK(shape_of(table_of("sd35", 2), "x_embedder.proj.weight") == Shape{128, 16, 2, 2});
  CHECK_THROWS_AS(table_of("sd35", 2, 2), qfp8::Error);
}

TEST_CASE("synth image models narrow their hidden widths, not patch or timestep widths",
          "[synth][image-a]") {
  const auto flux = table_of("flux1", 1, 16);
  CHECK(shape_of(flux, "img_in.weight") == Shape{192, 64});
  CHECK(shape_of(flux, "time_in.in_layer.weight") == Shape{192, 256});
  CHECK(shape_of(flux, "double_blocks.0.img_attn.norm.key_norm.scale") == Shape{8});
  const auto hidream = table_of("hidream", 1, 16);
  // SwiGLU widths follow the narrowed width: 2/3 of 4 x 160, rounded up to 256.
  CHECK(shape_of(hidream, "double_stream_blocks.0.block.ff_i.experts.0.w1.weight") == Shape{512, 160});
  CHECK(shape_of(hidream, "double_stream_blocks.0.block.ff_i.shared_experts.w1.weight") == Shape{256, 160});
  CHECK_THROWS_AS(table_of("flux2", 1, 32), qfp8::Error);
}
