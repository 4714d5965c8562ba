// test_model_families_video.cpp — the video families of the registry (docs/models.md#families):
// HunyuanVideo 1.0 and 1.5, LTX-Video and LTX-2 are detected from their ComfyUI keys, bare and
// `model.diffusion_model.`-prefixed, with their variants; the siblings ComfyUI tells apart
// (1.0 / 1.5 / HunyuanImage 2.1, LTX-Video / LTX-2 / PixArt) are not taken for one another;
// and the keep decisions with the reasons the dry run prints.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "plan/conversion_plan.hpp"
#include "plan/model_families.hpp"
#include "support/family_headers.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

std::vector<ShapeSpec> reshaped(std::vector<ShapeSpec> specs, const std::string& name, std::vector<uint64_t> shape) {
  for (auto& spec : specs) {
    if (spec.name == name) spec.shape = shape;
  }
  return specs;
}

// HunyuanVideo's layout at width 64 (ComfyUI names): the parts every model of the layout has.
const std::vector<ShapeSpec> kHunyuanCommon = {
    {"img_in.proj.weight", {64, 16, 1, 2, 2}},
    {"time_in.in_layer.weight", {64, 256}},
    {"txt_in.input_embedder.weight", {64, 4096}},
    {"txt_in.c_embedder.in_layer.weight", {64, 4096}},
    {"txt_in.individual_token_refiner.blocks.0.norm1.weight", {64}},
    {"txt_in.individual_token_refiner.blocks.0.self_attn.qkv.weight", {192, 64}},
    {"double_blocks.0.img_attn.norm.key_norm.scale", {128}},
    {"double_blocks.0.img_attn.qkv.weight", {192, 64}},
    {"double_blocks.0.img_mod.lin.weight", {384, 64}},
    {"final_layer.linear.weight", {64, 64}},
    {"final_layer.adaLN_modulation.1.weight", {128, 64}},
};
// 1.0: pooled CLIP-L, guidance, single blocks.
const std::vector<ShapeSpec> kHunyuan10 = kHunyuanCommon + std::vector<ShapeSpec>{
    {"vector_in.in_layer.weight", {64, 768}},
    {"guidance_in.in_layer.weight", {64, 256}},
    {"single_blocks.0.linear1.weight", {448, 64}},
};
// 1.5: SigLIP embedder, ByT5 embedder, condition-type embedding; 65 input channels.
const std::vector<ShapeSpec> kHunyuan15 = reshaped(kHunyuanCommon, "img_in.proj.weight", {64, 65, 1, 1, 1}) +
                                     std::vector<ShapeSpec>{
                                         {"vision_in.proj.0.weight", {1152}},
                                         {"vision_in.proj.1.weight", {1152, 1152}},
                                         {"vision_in.proj.3.weight", {64, 1152}},
                                         {"byt5_in.fc1.weight", {64, 1472}},
                                         {"cond_type_embedding.weight", {3, 2048}},
                                     };
// HunyuanImage 2.1: the same token refiner, no vector_in, no vision_in (ComfyUI's HunyuanImage21).
const std::vector<ShapeSpec> kHunyuanImage21 = reshaped(kHunyuanCommon, "img_in.proj.weight", {64, 64, 1, 1}) +
                                          std::vector<ShapeSpec>{{"byt5_in.fc1.weight", {64, 1472}}};

const std::vector<ShapeSpec> kLtxv = {
    {"adaln_single.emb.timestep_embedder.linear_1.bias", {64}},
    {"adaln_single.emb.timestep_embedder.linear_1.weight", {64, 256}},
    {"adaln_single.linear.weight", {384, 64}},
    {"patchify_proj.weight", {64, 128}},
    {"caption_projection.linear_1.weight", {64, 4096}},
    {"transformer_blocks.0.attn1.to_q.weight", {64, 64}},
    {"transformer_blocks.0.attn2.to_k.weight", {64, 64}},
    {"transformer_blocks.0.scale_shift_table", {6, 64}},
    {"scale_shift_table", {2, 64}},
    {"proj_out.weight", {128, 64}},
};
const std::vector<ShapeSpec> kLtx2Audio = {
    {"audio_adaln_single.linear.weight", {192, 32}},
    {"audio_patchify_proj.weight", {32, 128}},
    {"av_ca_a2v_gate_adaln_single.linear.weight", {64, 64}},
    {"audio_caption_projection.linear_1.weight", {32, 3840}},
    {"transformer_blocks.2.attn1.to_q.weight", {64, 64}},
    {"transformer_blocks.47.audio_ff.net.0.proj.weight", {128, 32}},
    {"audio_proj_out.weight", {128, 32}},
    {"video_embeddings_connector.transformer_1d_blocks.0.attn1.to_q.weight", {64, 64}},
};
// A full LTX-2 checkpoint's other parts (top level, not under model.diffusion_model.).
const std::vector<ShapeSpec> kLtx2Checkpoint = {
    {"text_embedding_projection.aggregate_embed.weight", {64, 3840}},
    {"vae.decoder.last_time_embedder.linear_1.weight", {256, 256}},
    {"audio_vae.decoder.mid.attn_1.q.weight", {512, 512}},
    {"vocoder.conv_post.weight", {1, 128, 7}},
};

}  // namespace

TEST_CASE("video families are detected from their ComfyUI keys, bare and prefixed", "[families][video]") {
  for (const std::string prefix : {"", "model.diffusion_model."}) {
    INFO(prefix);
    CHECK(detected(kHunyuan10, prefix) == "hunyuan-video");
    CHECK(detected(kHunyuan15, prefix) == "hunyuan-video-1.5");
    CHECK(detected(kLtxv, prefix) == "ltxv");
    CHECK(detected(kLtxv + kLtx2Audio, prefix) == "ltx2");
  }
  CHECK(describe_only(kHunyuan10) ==
        "hunyuan-video from txt_in.individual_token_refiner.blocks.0.norm1.weight, "
        "vector_in.in_layer.weight");
  CHECK(describe_only(kHunyuan15) ==
        "hunyuan-video-1.5 from txt_in.individual_token_refiner.blocks.0.norm1.weight, "
        "vision_in.proj.0.weight");
  CHECK(describe_only(kLtxv) == "ltxv from adaln_single.emb.timestep_embedder.linear_1.bias");
  CHECK(describe_only(kLtxv + kLtx2Audio) ==
        "ltx2 from adaln_single.emb.timestep_embedder.linear_1.bias, audio_adaln_single.linear.weight");
}

TEST_CASE("video variants: HunyuanVideo I2V and SkyReels by input channels, 1.5 super-resolution", "[families][video]") {
  CHECK(describe_only(reshaped(kHunyuan10, "img_in.proj.weight", {64, 33, 1, 2, 2}))
            .find("(variant: I2V (33 input channels))") != std::string::npos);
  CHECK(describe_only(reshaped(kHunyuan10, "img_in.proj.weight", {64, 32, 1, 2, 2}))
            .find("(variant: SkyReels I2V (32 input channels))") != std::string::npos);
  CHECK(describe_only(kHunyuan10).find("variant") == std::string::npos);  // 16 channels: T2V
  CHECK(describe_only(reshaped(kHunyuan15, "img_in.proj.weight", {64, 98, 1, 1, 1}))
            .find("(variant: 1080p super-resolution (98 input channels))") != std::string::npos);
  CHECK(describe_only(kHunyuan15 + std::vector<ShapeSpec>{{"time_r_in.in_layer.weight", {64, 256}}})
            .find("meanflow (time_r_in)") != std::string::npos);
  CHECK(describe_only(kHunyuan15).find("variant") == std::string::npos);
}

TEST_CASE("video near-misses: the siblings ComfyUI tells apart are not taken for one another", "[families][video]") {
  // A 1.0 header with a SigLIP embedder is 1.5 (ComfyUI checks HunyuanVideo15 first), not both.
  CHECK(detected(kHunyuan10 + std::vector<ShapeSpec>{{"vision_in.proj.0.weight", {1152}}}) == "hunyuan-video-1.5");
  // HunyuanImage 2.1: the token refiner without vector_in or vision_in is no video family.
  CHECK(detected(kHunyuanImage21) == "");
  // 1.0 without its token refiner (only the Flux-like double blocks): nothing.
  CHECK(detected(without(kHunyuan10, "txt_in.individual_token_refiner.blocks.0.norm1.weight")) == "");
  // The Flux key norm and img_in.weight beside the token refiner: still HunyuanVideo, not Flux.1.
  CHECK(detected(kHunyuan10 + std::vector<ShapeSpec>{{"img_in.weight", {64, 64}}}) == "hunyuan-video");
  // LTX-Video with an audio stream is LTX-2; LTX-2 is never also LTX-Video.
  const FamilyDetection both = detect_model_family(family_header(kLtxv + kLtx2Audio));
  REQUIRE(both.matches.size() == 1);
  CHECK(std::string(both.matches[0].family->name) == "ltx2");
  // PixArt in diffusers names shares the timestep key; ComfyUI refuses it as LTX-Video.
  CHECK(detected(kLtxv + std::vector<ShapeSpec>{{"pos_embed.proj.bias", {64}}}) == "");
  // The LTX timestep key's weight alone (no .bias) is not the signature.
  CHECK(detected(without(kLtxv, "adaln_single.emb.timestep_embedder.linear_1.bias")) == "");
  // The audio adaLN alone, without the Lightricks timestep key: nothing.
  CHECK(detected(kLtx2Audio) == "");
}

TEST_CASE("HunyuanVideo keep lists, with the reasons the dry run prints", "[families][video]") {
  const std::string p = "model.diffusion_model.";
  const ConversionPlan v10 = make_conversion_plan(family_header(kHunyuan10, p), {}, "in");
  CHECK(reason(v10, p + "txt_in.input_embedder.weight") == "keep: hunyuan-video preset (txt_in.*)");
  CHECK(reason(v10, p + "txt_in.individual_token_refiner.blocks.0.self_attn.qkv.weight") ==
        "keep: hunyuan-video preset (txt_in.*)");
  CHECK(reason(v10, p + "time_in.in_layer.weight") == "keep: hunyuan-video preset (time_in.*)");
  CHECK(reason(v10, p + "vector_in.in_layer.weight") == "keep: hunyuan-video preset (vector_in.*)");
  CHECK(reason(v10, p + "guidance_in.in_layer.weight") == "keep: hunyuan-video preset (guidance_in.*)");
  CHECK(reason(v10, p + "final_layer.linear.weight") == "keep: hunyuan-video preset (final_layer.*)");
  CHECK(reason(v10, p + "img_in.proj.weight") == "keep: 5-D");
  CHECK(reason(v10, p + "double_blocks.0.img_mod.lin.weight") == "quantize");
  CHECK(reason(v10, p + "single_blocks.0.linear1.weight") == "quantize");

  const ConversionPlan v15 = make_conversion_plan(family_header(kHunyuan15), {}, "in");
  // An nn.Embedding [3, 2048]: 6144 elements, which the bare rule would quantize.
  CHECK(reason(v15, "cond_type_embedding.weight") == "keep: hunyuan-video-1.5 preset (cond_type_embedding)");
  CHECK(reason(v15, "vision_in.proj.1.weight") == "keep: hunyuan-video-1.5 preset (vision_in.*)");
  CHECK(reason(v15, "byt5_in.fc1.weight") == "keep: hunyuan-video-1.5 preset (byt5_in.*)");
  CHECK(reason(v15, "txt_in.c_embedder.in_layer.weight") == "keep: hunyuan-video-1.5 preset (txt_in.*)");
  CHECK(reason(v15, "final_layer.adaLN_modulation.1.weight") ==
        "keep: hunyuan-video-1.5 preset (final_layer.*)");
  CHECK(reason(v15, "double_blocks.0.img_attn.qkv.weight") == "quantize");
}

TEST_CASE("LTX keep lists: embedders, adaLN, first and last two LTX-2 blocks, checkpoint parts", "[families][video]") {
  const ConversionPlan v = make_conversion_plan(family_header(kLtxv), {}, "in");
  CHECK(reason(v, "patchify_proj.weight") == "keep: ltxv preset (patchify_proj)");
  CHECK(reason(v, "adaln_single.linear.weight") == "keep: ltxv preset (adaln_single.*)");
  CHECK(reason(v, "adaln_single.emb.timestep_embedder.linear_1.weight") == "keep: ltxv preset (adaln_single.*)");
  CHECK(reason(v, "caption_projection.linear_1.weight") == "keep: ltxv preset (caption_projection.*)");
  CHECK(reason(v, "proj_out.weight") == "keep: ltxv preset (proj_out)");
  CHECK(reason(v, "transformer_blocks.0.attn1.to_q.weight") == "quantize");
  CHECK(reason(v, "transformer_blocks.0.scale_shift_table") == "keep: not .weight");

  const std::string p = "model.diffusion_model.";
  Header full = family_header(kLtxv + kLtx2Audio, p);
  const Header parts = family_header(kLtx2Checkpoint);
  std::vector<TensorSpec> all;
  for (const auto& t : full.tensors) all.push_back({t.name, t.dtype, t.shape});
  for (const auto& t : parts.tensors) all.push_back({t.name, t.dtype, t.shape});
  const ConversionPlan a = make_conversion_plan(make_header(all), {}, "in");
  CHECK(a.detected_model == "ltx2");
  CHECK(reason(a, p + "transformer_blocks.0.attn1.to_q.weight") == "keep: ltx2 preset (transformer_blocks.0.*)");
  CHECK(reason(a, p + "transformer_blocks.47.audio_ff.net.0.proj.weight") ==
        "keep: ltx2 preset (transformer_blocks.47.*)");
  CHECK(reason(a, p + "transformer_blocks.2.attn1.to_q.weight") == "quantize");
  CHECK(reason(a, p + "audio_patchify_proj.weight") == "keep: ltx2 preset (audio_patchify_proj)");
  CHECK(reason(a, p + "av_ca_a2v_gate_adaln_single.linear.weight") ==
        "keep: ltx2 preset (av_ca_a2v_gate_adaln_single.*)");
  CHECK(reason(a, p + "audio_caption_projection.linear_1.weight") ==
        "keep: ltx2 preset (audio_caption_projection.*)");
  CHECK(reason(a, p + "audio_proj_out.weight") == "keep: ltx2 preset (audio_proj_out)");
  CHECK(reason(a, p + "video_embeddings_connector.transformer_1d_blocks.0.attn1.to_q.weight") ==
        "keep: ltx2 preset (video_embeddings_connector.*)");
  CHECK(reason(a, "text_embedding_projection.aggregate_embed.weight") ==
        "keep: ltx2 preset (text_embedding_projection.*)");
  CHECK(reason(a, "vae.decoder.last_time_embedder.linear_1.weight") == "keep: ltx2 preset (vae.*)");
  CHECK(reason(a, "audio_vae.decoder.mid.attn_1.q.weight") == "keep: ltx2 preset (audio_vae.*)");
}
