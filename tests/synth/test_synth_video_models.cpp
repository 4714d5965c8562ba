// test_synth_video_models.cpp — the video models of `synth --model`, built in process at full
// width and full depth (names and shapes only, no values): the tensor count of the published
// model's ComfyUI state dict and the shapes ComfyUI's model_detection.py reads to configure
// the model (in channels, widths, head counts, depths), written out from the model code.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "synth/synth_models.hpp"

namespace {

using Shape = std::vector<uint64_t>;

std::map<std::string, Shape> full_model(const std::string& model, bool prefix = false) {
  qfp8::SynthConfig config;
  config.model = model;
  config.prefix = prefix;
  std::map<std::string, Shape> shapes;
  for (const auto& tensor : qfp8::synth_tensors(config)) {
    const bool unique = shapes.emplace(tensor.name, tensor.shape).second;
    CHECK(unique);
  }
  return shapes;
}

Shape shape_of(const std::map<std::string, Shape>& shapes, const std::string& name) {
  const auto found = shapes.find(name);
  INFO(name);
  REQUIRE(found != shapes.end());
  return found->second;
}

}  // namespace

TEST_CASE("synth wan: Wan 2.1 14B T2V, 1095 tensors", "[synth][video]") {
  const auto m = full_model("wan");
  // 15 outside the blocks + 40 blocks x 27 (attention 10 + 10, norm3 2, ffn 4, modulation 1).
  CHECK(m.size() == 15 + 40 * 27);
  CHECK(shape_of(m, "patch_embedding.weight") == Shape{5120, 16, 1, 2, 2});  // in_dim 16
  CHECK(shape_of(m, "head.modulation") == Shape{1, 2, 5120});                 // dim 5120, 40 heads
  CHECK(shape_of(m, "head.head.weight") == Shape{64, 5120});                  // out_dim 64 / 4 = 16
  CHECK(shape_of(m, "blocks.39.ffn.0.weight") == Shape{13824, 5120});
  CHECK(shape_of(m, "blocks.0.modulation") == Shape{1, 6, 5120});
  CHECK(shape_of(m, "time_projection.1.weight") == Shape{30720, 5120});
  CHECK(shape_of(m, "text_embedding.0.weight") == Shape{5120, 4096});
  CHECK(shape_of(m, "blocks.0.norm3.bias") == Shape{5120});
  CHECK(m.count("blocks.40.ffn.0.weight") == 0);
  CHECK(m.count("img_emb.proj.0.bias") == 0);  // T2V
}

TEST_CASE("synth hunyuan-video: HunyuanVideo 1.0, 856 tensors, 20 double and 40 single blocks", "[synth][video]") {
  const auto m = full_model("hunyuan-video");
  // 56 outside the blocks + 20 x 24 + 40 x 8.
  CHECK(m.size() == 56 + 20 * 24 + 40 * 8);
  CHECK(shape_of(m, "img_in.proj.weight") == Shape{3072, 16, 1, 2, 2});  // 16 in, patch 1x2x2
  CHECK(shape_of(m, "final_layer.linear.weight") == Shape{64, 3072});   // 64 / 4 = 16 out
  CHECK(shape_of(m, "txt_in.input_embedder.weight") == Shape{3072, 4096});
  CHECK(shape_of(m, "vector_in.in_layer.weight") == Shape{3072, 768});
  CHECK(shape_of(m, "guidance_in.in_layer.weight") == Shape{3072, 256});
  CHECK(shape_of(m, "double_blocks.19.img_mod.lin.weight") == Shape{18432, 3072});
  CHECK(shape_of(m, "double_blocks.0.txt_attn.norm.key_norm.scale") == Shape{128});
  CHECK(shape_of(m, "single_blocks.39.linear1.weight") == Shape{21504, 3072});
  CHECK(shape_of(m, "single_blocks.39.linear2.weight") == Shape{3072, 15360});
  CHECK(shape_of(m, "txt_in.individual_token_refiner.blocks.1.adaLN_modulation.1.weight") == Shape{6144, 3072});
  CHECK(m.count("double_blocks.20.img_mod.lin.weight") == 0);
  CHECK(m.count("single_blocks.40.linear1.weight") == 0);
}

TEST_CASE("synth hunyuan-video-1.5: 1361 tensors, 54 double blocks, SigLIP 1152", "[synth][video]") {
  const auto m = full_model("hunyuan-video-1.5");
  // 65 outside the blocks + 54 x 24, no single block.
  CHECK(m.size() == 65 + 54 * 24);
  CHECK(shape_of(m, "img_in.proj.weight") == Shape{2048, 65, 1, 1, 1});
  CHECK(shape_of(m, "final_layer.linear.weight") == Shape{32, 2048});
  CHECK(shape_of(m, "vision_in.proj.0.weight") == Shape{1152});  // vision_in_dim 1152
  CHECK(shape_of(m, "vision_in.proj.3.weight") == Shape{2048, 1152});
  CHECK(shape_of(m, "byt5_in.fc1.weight") == Shape{2048, 1472});
  CHECK(shape_of(m, "byt5_in.fc3.weight") == Shape{2048, 2048});
  CHECK(shape_of(m, "cond_type_embedding.weight") == Shape{3, 2048});
  CHECK(shape_of(m, "txt_in.input_embedder.weight") == Shape{2048, 3584});
  CHECK(shape_of(m, "double_blocks.53.txt_mlp.2.weight") == Shape{2048, 8192});
  CHECK(m.count("double_blocks.54.img_mod.lin.weight") == 0);
  CHECK(m.count("single_blocks.0.linear1.weight") == 0);
  CHECK(m.count("vector_in.in_layer.weight") == 0);
}

TEST_CASE("synth ltxv: LTX-Video 13B, 1215 tensors", "[synth][video]") {
  const auto m = full_model("ltxv");
  // 15 outside the blocks + 48 x 25.
  CHECK(m.size() == 15 + 48 * 25);
  CHECK(shape_of(m, "transformer_blocks.0.attn2.to_k.weight") == Shape{4096, 4096});  // head dim 4096 / 32
  CHECK(shape_of(m, "patchify_proj.weight") == Shape{4096, 128});
  CHECK(shape_of(m, "adaln_single.linear.weight") == Shape{24576, 4096});
  CHECK(shape_of(m, "caption_projection.linear_1.weight") == Shape{4096, 4096});
  CHECK(shape_of(m, "transformer_blocks.47.ff.net.0.proj.weight") == Shape{16384, 4096});
  CHECK(shape_of(m, "transformer_blocks.47.scale_shift_table") == Shape{6, 4096});
  CHECK(shape_of(m, "scale_shift_table") == Shape{2, 4096});
  CHECK(shape_of(m, "proj_out.weight") == Shape{128, 4096});
  CHECK(m.count("transformer_blocks.48.attn1.to_q.weight") == 0);
}

TEST_CASE("synth ltx2: LTX-2 19B audio-video, 3510 tensors", "[synth][video]") {
  const auto m = full_model("ltx2", /*prefix=*/true);
  const std::string p = "model.diffusion_model.";
  // 54 outside the blocks + 48 x 72 (six attentions of 10, two FFs of 4, four tables).
  CHECK(m.size() == 54 + 48 * 72);
  CHECK(shape_of(m, p + "transformer_blocks.0.attn2.to_k.weight") == Shape{4096, 4096});
  CHECK(shape_of(m, p + "transformer_blocks.0.audio_attn2.to_k.weight") == Shape{2048, 2048});
  CHECK(shape_of(m, p + "transformer_blocks.0.audio_to_video_attn.to_q.weight") == Shape{2048, 4096});
  CHECK(shape_of(m, p + "transformer_blocks.0.audio_to_video_attn.to_out.0.weight") == Shape{4096, 2048});
  CHECK(shape_of(m, p + "transformer_blocks.0.video_to_audio_attn.to_k.weight") == Shape{2048, 4096});
  CHECK(shape_of(m, p + "transformer_blocks.47.scale_shift_table_a2v_ca_audio") == Shape{5, 2048});
  CHECK(shape_of(m, p + "caption_projection.linear_1.weight") == Shape{4096, 3840});
  CHECK(shape_of(m, p + "audio_caption_projection.linear_1.weight") == Shape{2048, 3840});
  CHECK(shape_of(m, p + "av_ca_video_scale_shift_adaln_single.linear.weight") == Shape{16384, 4096});
  CHECK(shape_of(m, p + "av_ca_v2a_gate_adaln_single.linear.weight") == Shape{2048, 2048});
  CHECK(shape_of(m, p + "audio_adaln_single.linear.weight") == Shape{12288, 2048});
  CHECK(shape_of(m, p + "audio_proj_out.weight") == Shape{128, 2048});
  CHECK(m.count(p + "video_embeddings_connector.learnable_registers") == 0);  // a text-encoder part
}

TEST_CASE("synth video models refuse a width divisor beyond their limit", "[synth][video]") {
  for (const auto& [model, limit] : std::vector<std::pair<std::string, unsigned>>{
           {"wan", 512}, {"hunyuan-video", 256}, {"hunyuan-video-1.5", 64}, {"ltxv", 256}, {"ltx2", 256}}) {
    INFO(model);
    qfp8::SynthConfig config;
    config.model = model;
    config.blocks = 1;
    config.width_div = limit;
    CHECK_NOTHROW(qfp8::validate_synth_config(config));
    config.width_div = 2 * limit;
    CHECK_THROWS_AS(qfp8::validate_synth_config(config), qfp8::Error);
  }
}
