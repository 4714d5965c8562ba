// model_families_video.cpp — the registry's video models: one entry per family, in ComfyUI's
// key naming (docs/models.md#families has the same facts in prose, with their sources).
#include "plan/model_family_groups.hpp"

namespace qfp8 {
namespace {

// The key ComfyUI's model_detection.py tests for every HunyuanVideo-layout model (1.0, 1.5,
// HunyuanImage 2.1); the same in Tencent's original names and in ComfyUI's.
constexpr const char* kTokenRefiner = "txt_in.individual_token_refiner.blocks.0.norm1.weight";
// ComfyUI's Lightricks key (LTX-Video and LTX-2).
constexpr const char* kLtxTimestep = "adaln_single.emb.timestep_embedder.linear_1.bias";
// Only LTX-2 (ComfyUI's `ltxav`) has an audio stream.
constexpr const char* kLtxAudio = "audio_adaln_single.linear.weight";
// A full checkpoint's VAE: ComfyUI loads it without FP8 scales (docs/models.md#vaes).
constexpr const char* kVaeWhy = "VAE of a full checkpoint: ComfyUI's VAE loader reads no FP8 scales";

ModelFamily wan() {
  return {
      "wan",
      "Wan 2.1 and 2.2: T2V, I2V, FLF2V, VACE; 1.3B, 14B, TI2V 5B",
      {{"head.modulation"}, {"patch_embedding.weight"}},
      {},
      // 192 = 48 latent channels x 1x2x2 patch: the Wan 2.2 VAE (Wan 2.1's has 16).
      {{"img_emb.proj.0.bias", false, -1, 0, "I2V/FLF2V (img_emb)"},
       {"vace_patch_embedding.weight", false, -1, 0, "VACE"},
       {"head.head.weight", false, 0, 192, "Wan 2.2 TI2V 5B (48 latent channels)"}},
      {{"text_embedding", true, "text embedder (MLP): umT5-XXL hidden states (4096) into the stream"},
       {"time_embedding", true, "timestep embedder (MLP)"},
       {"time_projection", true,
        "timestep to the six modulation vectors that every block adds to its own modulation"},
       {"img_emb", true, "I2V image embedder: CLIP vision features into the cross-attention context"},
       {"head.head", false, "final layer: the stream back to latent patches"}},
      "ComfyUI comfy/model_detection.py: head.modulation -> wan2.1 (Wan 2.2 too); "
      "img_emb.proj.0.bias -> i2v; comfy/supported_models.py WAN22_T2V: out_dim 48 -> TI2V 5B",
      "convert_to_quant --wan (WAN_LAYER_KEYNAMES: text_embedding, time_embedding, "
      "time_projection, head.head; AVOID_KEY_NAMES: img_emb.proj)",
  };
}

ModelFamily hunyuan_video() {
  return {
      "hunyuan-video",
      "HunyuanVideo 1.0: T2V, I2V, SkyReels I2V (ComfyUI or Tencent names)",
      // vector_in (the pooled CLIP-L embedder) is what sets 1.0 apart from HunyuanImage 2.1,
      // which ComfyUI detects by the same token refiner key.
      {{kTokenRefiner}, {"vector_in.in_layer.weight"}},
      // HunyuanVideo 1.5 (ComfyUI checks its SigLIP embedder first).
      {"vision_in.proj.0.weight"},
      // Input channels (img_in.proj.weight [3072, C, 1, 2, 2]): 33 and 32 select ComfyUI's
      // HunyuanVideoI2V and HunyuanVideoSkyreelsI2V, 16 its T2V HunyuanVideo.
      {{"img_in.proj.weight", false, 1, 33, "I2V (33 input channels)"},
       {"img_in.proj.weight", false, 1, 32, "SkyReels I2V (32 input channels)"}},
      {{"txt_in", true,
        "text embedder and token refiner: LLaVA-Llama-3 hidden states (4096) into the stream, "
        "refined by two blocks"},
       {"time_in", true, "timestep embedder (MLP): feeds every block's modulation"},
       {"vector_in", true, "pooled CLIP-L embedder (MLP): feeds every block's modulation"},
       {"guidance_in", true, "guidance embedder (MLP): feeds every block's modulation"},
       {"final_layer", true, "final layer: its adaLN modulation and the projection to latent patches"}},
      "ComfyUI comfy/model_detection.py: txt_in.individual_token_refiner.blocks.0.norm1.weight "
      "-> hunyuan_video; vector_in present (vec_in_dim 768) and no vision_in -> "
      "supported_models.py HunyuanVideo / HunyuanVideoI2V (in_channels 33) / "
      "HunyuanVideoSkyreelsI2V (32)",
      "kijai/ComfyUI-HunyuanVideoWrapper (params_to_keep: time_in, vector_in, guidance_in, "
      "txt_in, img_in); final_layer as in the Flux families (the same LastLayer)",
  };
}

ModelFamily hunyuan_video_15() {
  return {
      "hunyuan-video-1.5",
      "HunyuanVideo 1.5: T2V, I2V (480p, 720p, distilled), 1080p super-resolution",
      {{kTokenRefiner}, {"vision_in.proj.0.weight"}},
      {},
      // 98 input channels select ComfyUI's HunyuanVideo15_SR_Distilled (65: T2V and I2V).
      {{"img_in.proj.weight", false, 1, 98, "1080p super-resolution (98 input channels)"},
       {"time_r_in.in_layer.weight", false, -1, 0, "meanflow (time_r_in)"}},
      {{"txt_in", true,
        "text embedder and token refiner: Qwen2.5-VL hidden states (3584) into the stream, "
        "refined by two blocks"},
       {"byt5_in", true, "glyph text embedder: ByT5 hidden states (1472) into the stream"},
       {"vision_in", true, "image embedder: SigLIP features (1152) into the text stream"},
       {"cond_type_embedding", false,
        "embedding table (3 rows): a plain nn.Embedding in ComfyUI, which reads no FP8 scale"},
       {"time_in", true, "timestep embedder (MLP): feeds every block's modulation"},
       {"time_r_in", true, "second timestep embedder of meanflow models: feeds the modulation"},
       {"guidance_in", true, "guidance embedder (MLP), where present: feeds the modulation"},
       {"final_layer", true, "final layer: its adaLN modulation and the projection to latent patches"}},
      "ComfyUI comfy/model_detection.py: the HunyuanVideo token refiner key + "
      "vision_in.proj.0.weight (vision_in_dim 1152) -> supported_models.py HunyuanVideo15, "
      "HunyuanVideo15_SR_Distilled with 98 input channels",
      "convert_to_quant --hunyuan (HUNYUAN_AVOID_KEY_NAMES: cond_type_embedding, vision_in "
      "norms); embedders and final layer as in hunyuan-video",
  };
}

ModelFamily ltxv() {
  return {
      "ltxv",
      "LTX-Video 0.9.x: 2B, 13B (dev, distilled)",
      {{kLtxTimestep}},
      // LTX-2 has the same key and an audio stream; PixArt in diffusers names has the same key
      // and pos_embed.proj, and ComfyUI refuses it there.
      {kLtxAudio, "pos_embed.proj.bias"},
      {},
      {{"patchify_proj", false, "input embedder: latent patches (128 channels) into the stream"},
       {"adaln_single", true,
        "timestep embedder and the six modulation vectors every block adds to its "
        "scale_shift_table"},
       {"caption_projection", true, "text embedder (MLP): T5-XXL hidden states (4096) into the stream"},
       {"proj_out", false, "final layer: the stream back to latent patches"},
       {"vae", true, kVaeWhy}},
      "ComfyUI comfy/model_detection.py: adaln_single.emb.timestep_embedder.linear_1.bias -> "
      "ltxv (without audio_adaln_single.linear.weight; with pos_embed.proj.bias it is PixArt "
      "in diffusers names and refused)",
      "LTX-Video Q8 kernels (sayakpaul/q8-ltx-video q8_ltx.py MODULES_TO_NOT_CONVERT: proj_in, "
      "time_embed, caption_projection, proj_out = patchify_proj, adaln_single, "
      "caption_projection, proj_out); supported_models.py LTXV vae_key_prefix vae.",
  };
}

ModelFamily ltx2() {
  return {
      "ltx2",
      "LTX-2 19B audio-video (dev, distilled; diffusion model or full checkpoint)",
      {{kLtxTimestep}, {kLtxAudio}},
      {},
      {},
      {{"patchify_proj", false, "video input embedder: latent patches (128 channels) into the stream"},
       {"audio_patchify_proj", false, "audio input embedder: audio latents (128) into the audio stream"},
       {"adaln_single", true, "video timestep embedder and the modulation of every block"},
       {"audio_adaln_single", true, "audio timestep embedder and the modulation of every block"},
       {"av_ca_video_scale_shift_adaln_single", true, "modulation of the audio-video cross-attention"},
       {"av_ca_a2v_gate_adaln_single", true, "gate of the audio-to-video cross-attention"},
       {"av_ca_audio_scale_shift_adaln_single", true, "modulation of the audio-video cross-attention"},
       {"av_ca_v2a_gate_adaln_single", true, "gate of the video-to-audio cross-attention"},
       {"caption_projection", true, "video text embedder (MLP): Gemma 3 features (3840) into the stream"},
       {"audio_caption_projection", true, "audio text embedder (MLP): Gemma 3 features into the audio stream"},
       {"transformer_blocks.0", true, "first block"},
       {"transformer_blocks.1", true, "second block"},
       {"transformer_blocks.46", true, "last block but one (of 48)"},
       {"transformer_blocks.47", true, "last block (of 48)"},
       {"proj_out", false, "final layer: the video stream back to latent patches"},
       {"audio_proj_out", false, "final layer: the audio stream back to audio latents"},
       {"video_embeddings_connector", true,
        "text connector of a full checkpoint: loaded by ComfyUI's text encoder, not the model"},
       {"audio_embeddings_connector", true,
        "text connector of a full checkpoint: loaded by ComfyUI's text encoder, not the model"},
       {"text_embedding_projection", true,
        "Gemma feature projection of a full checkpoint: loaded by ComfyUI's text encoder"},
       {"vae", true, kVaeWhy},
       {"audio_vae", true, kVaeWhy},
       {"vocoder", true, "vocoder of a full checkpoint: loaded without FP8 scales"}},
      "ComfyUI comfy/model_detection.py: adaln_single.emb.timestep_embedder.linear_1.bias + "
      "audio_adaln_single.linear.weight -> ltxav (supported_models.py LTXAV)",
      "convert_to_quant --ltxv2 (LTXV2_LAYER_KEYNAMES: patchify_proj, adaln_single, av_ca_*, "
      "proj_out, transformer_blocks 0, 1, 46, 47, embeddings connectors, "
      "text_embedding_projection, vae, audio_vae, vocoder); caption projections as in ltxv",
  };
}

}  // namespace

std::vector<ModelFamily> video_model_families() {
  return {wan(), hunyuan_video(), hunyuan_video_15(), ltxv(), ltx2()};
}

}  // namespace qfp8
