// test_family_end_to_end_video.cpp — each video family's synthetic checkpoint through synth,
// convert (defaults: --preset auto) and verify --against; the kept layers are listed here
// from the model definitions (ComfyUI's model code) and docs/models.md, not from the registry.
// Eligible means 2-D with at least 4096 elements at the width used.
#include <catch2/catch.hpp>

#include "support/family_end_to_end.hpp"

using namespace qfp8::test;

namespace {

bool has(const std::string& log, const std::string& text) { return log.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("wan end to end: detected, keeps its embedders, time projection and head", "[families][e2e][video]") {
  // Width / 16: dim 320, ffn 864, text 256.
  const FamilyConversion run = convert_synthetic_family("wan", {"--blocks", "2", "--width-div", "16"});
  CHECK(has(run.convert_log, "model family wan from head.modulation, patch_embedding.weight; preset wan"));
  const std::set<std::string> kept = {"text_embedding.0", "text_embedding.2", "time_embedding.0",
                                      "time_embedding.2", "time_projection.1", "head.head"};
  CHECK(run.kept == kept);
  // Per block: self- and cross-attention q, k, v, o and the two FFN layers.
  CHECK(run.quantized.size() == 2 * 10);
  CHECK(run.quantized.count("blocks.1.cross_attn.o") == 1);
  CHECK(run.quantized.count("blocks.0.ffn.2") == 1);
}

TEST_CASE("hunyuan-video end to end: keeps the token refiner, the embedders and the final layer", "[families][e2e][video]") {
  // Width / 16: hidden 192, text 256, CLIP 48; one double block and two single blocks.
  const FamilyConversion run = convert_synthetic_family("hunyuan-video", {"--blocks", "1", "--width-div", "16"});
  CHECK(has(run.convert_log, "model family hunyuan-video from txt_in.individual_token_refiner.blocks.0."
                             "norm1.weight, vector_in.in_layer.weight; preset hunyuan-video"));
  std::set<std::string> kept = {
      "time_in.in_layer", "time_in.out_layer", "vector_in.in_layer", "vector_in.out_layer",
      "guidance_in.in_layer", "guidance_in.out_layer", "txt_in.input_embedder",
      "txt_in.t_embedder.in_layer", "txt_in.t_embedder.out_layer", "txt_in.c_embedder.in_layer",
      "txt_in.c_embedder.out_layer", "final_layer.linear", "final_layer.adaLN_modulation.1"};
  for (const char* block : {"0", "1"}) {
    for (const char* layer : {"self_attn.qkv", "self_attn.proj", "mlp.0", "mlp.2", "adaLN_modulation.1"}) {
      kept.insert(std::string("txt_in.individual_token_refiner.blocks.") + block + "." + layer);
    }
  }
  CHECK(run.kept == kept);
  const std::set<std::string> quantized = {
      "double_blocks.0.img_mod.lin", "double_blocks.0.img_attn.qkv", "double_blocks.0.img_attn.proj",
      "double_blocks.0.img_mlp.0",   "double_blocks.0.img_mlp.2",    "double_blocks.0.txt_mod.lin",
      "double_blocks.0.txt_attn.qkv", "double_blocks.0.txt_attn.proj", "double_blocks.0.txt_mlp.0",
      "double_blocks.0.txt_mlp.2",   "single_blocks.0.linear1",      "single_blocks.0.linear2",
      "single_blocks.0.modulation.lin", "single_blocks.1.linear1",   "single_blocks.1.linear2",
      "single_blocks.1.modulation.lin"};
  CHECK(run.quantized == quantized);
}

TEST_CASE("hunyuan-video-1.5 end to end: keeps the text, glyph and vision embedders", "[families][e2e][video]") {
  // Width / 16: hidden 128, text 224, ByT5 92 (mapper 128), SigLIP 72. cond_type_embedding
  // [3, 128] is too small to be eligible here (the planner test covers it at full width).
  const FamilyConversion run = convert_synthetic_family("hunyuan-video-1.5", {"--blocks", "2", "--width-div", "16"});
  CHECK(has(run.convert_log, "model family hunyuan-video-1.5 from txt_in.individual_token_refiner."
                             "blocks.0.norm1.weight, vision_in.proj.0.weight; preset hunyuan-video-1.5"));
  std::set<std::string> kept = {
      "time_in.in_layer", "time_in.out_layer", "txt_in.input_embedder", "txt_in.t_embedder.in_layer",
      "txt_in.t_embedder.out_layer", "txt_in.c_embedder.in_layer", "txt_in.c_embedder.out_layer",
      "byt5_in.fc1", "byt5_in.fc2", "byt5_in.fc3", "vision_in.proj.1", "vision_in.proj.3",
      "final_layer.linear", "final_layer.adaLN_modulation.1"};
  for (const char* block : {"0", "1"}) {
    for (const char* layer : {"self_attn.qkv", "self_attn.proj", "mlp.0", "mlp.2", "adaLN_modulation.1"}) {
      kept.insert(std::string("txt_in.individual_token_refiner.blocks.") + block + "." + layer);
    }
  }
  CHECK(run.kept == kept);
  CHECK(run.quantized.size() == 2 * 10);  // per double block: 5 layers per stream
  CHECK(run.quantized.count("double_blocks.1.txt_attn.qkv") == 1);
  CHECK(run.all_layers.count("cond_type_embedding") == 1);
  CHECK(run.quantized.count("cond_type_embedding") == 0);
}

TEST_CASE("ltxv end to end: keeps patchify_proj, adaln_single, caption_projection, proj_out", "[families][e2e][video]") {
  // Width / 16: inner 256, T5 256.
  const FamilyConversion run = convert_synthetic_family("ltxv", {"--blocks", "2", "--width-div", "16"});
  CHECK(has(run.convert_log, "model family ltxv from adaln_single.emb.timestep_embedder.linear_1.bias; preset ltxv"));
  const std::set<std::string> kept = {
      "patchify_proj", "adaln_single.emb.timestep_embedder.linear_1",
      "adaln_single.emb.timestep_embedder.linear_2", "adaln_single.linear",
      "caption_projection.linear_1", "caption_projection.linear_2", "proj_out"};
  CHECK(run.kept == kept);
  // Per block: attn1 and attn2 (to_q, to_k, to_v, to_out.0) and the two FF layers.
  CHECK(run.quantized.size() == 2 * 10);
  CHECK(run.quantized.count("transformer_blocks.1.attn2.to_out.0") == 1);
}

TEST_CASE("ltx2 end to end: keeps the embedders, every adaLN and the first two blocks", "[families][e2e][video]") {
  // Width / 16: video 256, audio 128, Gemma 240. Three blocks: 0 and 1 kept, 2 quantized.
  const FamilyConversion run = convert_synthetic_family("ltx2", {"--blocks", "3", "--width-div", "16"});
  CHECK(has(run.convert_log, "model family ltx2 from adaln_single.emb.timestep_embedder.linear_1.bias, "
                             "audio_adaln_single.linear.weight; preset ltx2"));
  std::set<std::string> kept = {"patchify_proj", "audio_patchify_proj", "caption_projection.linear_1",
                                "caption_projection.linear_2", "audio_caption_projection.linear_1",
                                "audio_caption_projection.linear_2", "proj_out", "audio_proj_out"};
  for (const char* adaln : {"adaln_single", "audio_adaln_single", "av_ca_video_scale_shift_adaln_single",
                            "av_ca_a2v_gate_adaln_single", "av_ca_audio_scale_shift_adaln_single",
                            "av_ca_v2a_gate_adaln_single"}) {
    for (const char* layer : {".emb.timestep_embedder.linear_1", ".emb.timestep_embedder.linear_2", ".linear"}) {
      kept.insert(std::string(adaln) + layer);
    }
  }
  // A block's Linears: six attentions of four, two feed-forwards of two.
  std::vector<std::string> block_layers = {"ff.net.0.proj", "ff.net.2", "audio_ff.net.0.proj", "audio_ff.net.2"};
  for (const char* attention : {"attn1", "audio_attn1", "attn2", "audio_attn2", "audio_to_video_attn",
                                "video_to_audio_attn"}) {
    for (const char* layer : {".to_q", ".to_k", ".to_v", ".to_out.0"}) {
      block_layers.push_back(std::string(attention) + layer);
    }
  }
  std::set<std::string> quantized;
  for (const auto& layer : block_layers) {
    kept.insert("transformer_blocks.0." + layer);
    kept.insert("transformer_blocks.1." + layer);
    quantized.insert("transformer_blocks.2." + layer);
  }
  CHECK(run.kept == kept);
  CHECK(run.quantized == quantized);
}
