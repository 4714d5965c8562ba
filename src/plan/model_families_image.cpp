// model_families_image.cpp — the registry's image models: one entry per family, in ComfyUI's
// key naming (docs/models.md#families has the same facts in prose, with their sources).
#include "plan/model_family_groups.hpp"

namespace qfp8 {
namespace {

// Flux-layout models name the key norm `.scale` (BFL) or `.weight`; ComfyUI accepts both.
const std::vector<const char*> kFluxKeyNorm = {"double_blocks.0.img_attn.norm.key_norm.scale",
                                               "double_blocks.0.img_attn.norm.key_norm.weight"};

ModelFamily qwen_image() {
  return {
      "qwen-image",
      "Qwen-Image, Qwen-Image-Edit (2509, 2511), Qwen-Image-Layered",
      {{"txt_norm.weight"}},
      // Other models that also have a txt_norm, which ComfyUI tells apart before Qwen-Image:
      // Flux-layout ones (Ovis-Image), Lens, Qwen-Image 2.1.
      {kFluxKeyNorm[0], kFluxKeyNorm[1], "transformer_blocks.0.img_mlp.w1.weight",
       "txt_in.text_norm.weight"},
      {{"time_text_embed.addition_t_embedding.weight", false, -1, 0, "Layered"},
       {"__index_timestep_zero__", false, -1, 0, "Edit 2511"}},
      {{"img_in", false, "input embedder: latent patches (16 channels x 2x2 = 64) into the stream"},
       {"txt_in", false, "text embedder: Qwen2.5-VL hidden states (3584) into the stream"},
       {"time_text_embed", true, "timestep embedder: feeds every block's modulation"},
       {"transformer_blocks.0.img_mod.1", false,
        "first block's image modulation: shift/scale/gate before any block has run"},
       {"norm_out", true, "final adaptive norm: the modulation of the output"},
       {"proj_out", false, "final layer: the stream back to latent patches"}},
      "ComfyUI comfy/model_detection.py: txt_norm.weight -> qwen_image, checked after the "
      "Flux layout, Lens and Qwen-Image 2.1",
      "convert_to_quant --qwen (QWEN_LAYER_KEYNAMES); roles from comfy/ldm/qwen_image/model.py",
  };
}

// Z-Image and Lumina 2 are one ComfyUI model (NextDiT, comfy/ldm/lumina/model.py) with two
// configs; model_detection.py picks the config from cap_embedder.1's width (3840: Z-Image,
// 2304: Lumina 2). The config also decides each block's modulation: a bare Linear for Z-Image
// (`adaLN_modulation.0`), SiLU + Linear otherwise (`adaLN_modulation.1`). That name tells the
// two apart exactly as the width does, at any width; the caption width does not (2560 is
// both Z-Image's Qwen3-4B and NewBie's Gemma-3-4B).
ModelFamily z_image() {
  return {
      "z-image",
      "Z-Image (Turbo, Base)",
      // x_embedder: ComfyUI's name; the diffusers layout (all_x_embedder.2-1) is not loadable.
      {{"cap_embedder.1.weight"}, {"x_embedder.weight"}, {"layers.0.adaLN_modulation.0.weight"}},
      {},
      {},
      {{"x_embedder", false,
        "input embedder: latent patches (16 channels x 2x2 = 64) into the 3840-wide stream"},
       {"cap_embedder.1", false, "caption embedder: Qwen3-4B hidden states (2560) into the stream"},
       {"t_embedder", true, "timestep embedder (MLP, 256 out): the input of every modulation"},
       {"noise_refiner.*.adaLN_modulation.0", false,
        "image refiner modulation (256 -> 4 x 3840): scales and tanh gates of every image token"},
       {"layers.*.adaLN_modulation.0", false,
        "block modulation (256 -> 4 x 3840): scales and tanh gates of every token, once per step"},
       {"final_layer", true, "final layer: its modulation and the projection to latent patches"}},
      "ComfyUI comfy/model_detection.py: cap_embedder.1.weight -> lumina2, 3840 rows -> the Z-Image "
      "config (z_image_modulation: layers.N.adaLN_modulation.0); x_embedder from "
      "comfy/ldm/lumina/model.py",
      "convert_to_quant --zimage (ZIMAGE_LAYER_KEYNAMES: x_embedder, final_layer, cap_embedder.1, "
      "adaLN_modulation, t_embedder); roles from comfy/ldm/lumina/model.py",
  };
}

ModelFamily lumina2() {
  return {
      "lumina2",
      "Lumina Image 2.0, Neta Lumina, NetaYume Lumina, NewBie",
      {{"cap_embedder.1.weight"}, {"x_embedder.weight"}, {"layers.0.adaLN_modulation.1.weight"}},
      {},
      {{"clip_text_pooled_proj.0.weight", false, -1, 0, "NewBie (pooled CLIP text)"}},
      {{"x_embedder", false,
        "input embedder: latent patches (16 channels x 2x2 = 64) into the 2304-wide stream"},
       {"cap_embedder.1", false,
        "caption embedder: Gemma-2-2B hidden states (2304; NewBie: Gemma-3-4B, 2560) into the stream"},
       {"t_embedder", true, "timestep embedder (MLP, 1024 out): the input of every modulation"},
       {"clip_text_pooled_proj", true, "NewBie's pooled-text embedder: feeds every modulation"},
       {"time_text_embed", true, "NewBie's timestep + pooled-text mix: the input of every modulation"},
       {"noise_refiner.*.adaLN_modulation.1", false,
        "image refiner modulation (1024 -> 4 x 2304): scales and tanh gates of every image token"},
       {"layers.*.adaLN_modulation.1", false,
        "block modulation (1024 -> 4 x 2304): scales and tanh gates of every token, once per step"},
       {"final_layer", true, "final layer: its modulation and the projection to latent patches"}},
      "ComfyUI comfy/model_detection.py: cap_embedder.1.weight -> lumina2, 2304 rows -> the "
      "Lumina 2 config (layers.N.adaLN_modulation.1); clip_text_pooled_proj.0.weight -> NewBie",
      "convert_to_quant --zimage (ZIMAGE_LAYER_KEYNAMES, which also names NewBie's "
      "clip_text_pooled_proj and time_text_embed); roles from comfy/ldm/lumina/model.py",
  };
}

ModelFamily flux1() {
  return {
      "flux1",
      "Flux.1 dev, schnell, Kontext, Krea (ComfyUI / BFL names)",
      {kFluxKeyNorm, {"img_in.weight"}, {"time_in.in_layer.weight"}},
      // Flux.2 has the same layout plus shared modulation; HunyuanVideo has double blocks and
      // a token refiner (ComfyUI checks it before Flux).
      {"double_stream_modulation_img.lin.weight",
       "txt_in.individual_token_refiner.blocks.0.norm1.weight"},
      {{"guidance_in.in_layer.weight", false, -1, 0, "guidance-distilled: dev, Kontext or Krea"},
       {"guidance_in.in_layer.weight", true, -1, 0, "schnell (no guidance_in)"}},
      {{"img_in", false, "input embedder: latent patches (16 channels x 2x2 = 64) into the stream"},
       {"txt_in", false, "text embedder: T5-XXL hidden states (4096) into the stream"},
       {"time_in", true, "timestep embedder (MLP): feeds every block's modulation"},
       {"vector_in", true, "pooled CLIP-L embedder (MLP): feeds every block's modulation"},
       {"guidance_in", true, "guidance embedder (MLP, not in schnell): feeds every block's modulation"},
       {"final_layer", true, "final layer: its adaLN modulation and the projection to latent patches"}},
      "ComfyUI comfy/model_detection.py: double_blocks.0.img_attn.norm.key_norm + img_in.weight "
      "-> flux; guidance_in.in_layer.weight sets guidance_embed; time_in/vector_in from "
      "comfy/ldm/flux/model.py",
      "comfy/ldm/flux/model.py (embedders, LastLayer); convert_to_quant --flux2 keeps the "
      "same-named img_in, txt_in, time_in, guidance_in, final_layer",
  };
}

ModelFamily flux2() {
  return {
      "flux2",
      "Flux.2",
      {kFluxKeyNorm, {"double_stream_modulation_img.lin.weight"}},
      {},
      {},
      {{"img_in", false, "input embedder: latent patches into the stream"},
       {"txt_in", false, "text embedder: text-encoder hidden states into the stream"},
       {"time_in", true, "timestep embedder (MLP): feeds the shared modulation"},
       {"guidance_in", true, "guidance embedder (MLP): feeds the shared modulation"},
       {"double_stream_modulation_img", true, "shared modulation of every double block's image stream"},
       {"double_stream_modulation_txt", true, "shared modulation of every double block's text stream"},
       {"single_stream_modulation", true, "shared modulation of every single block"},
       {"final_layer", true, "final layer: its adaLN modulation and the projection to latent patches"}},
      "ComfyUI comfy/model_detection.py: Flux layout + double_stream_modulation_img.lin.weight -> "
      "flux2",
      "convert_to_quant --flux2 (FLUX2_LAYER_KEYNAMES: stream_modulation, guidance_in, time_in, "
      "final_layer, img_in, txt_in)",
  };
}

ModelFamily chroma() {
  return {
      "chroma",
      "Chroma (Flux.1-schnell layout with a distilled guidance layer)",
      {kFluxKeyNorm,
       {"img_in.weight"},
       {"distilled_guidance_layer.norms.0.scale", "distilled_guidance_layer.norms.0.weight",
        "distilled_guidance_layer.0.norms.0.scale", "distilled_guidance_layer.0.norms.0.weight"}},
      {},
      {},
      {{"img_in", false, "input embedder: latent patches (64) into the stream"},
       {"txt_in", false, "text embedder: T5-XXL hidden states (4096) into the stream"},
       {"distilled_guidance_layer", true,
        "approximator: computes every block's modulation (replaces Flux's modulation layers)"},
       {"final_layer", true, "final layer: the projection to latent patches"}},
      "ComfyUI comfy/model_detection.py: Flux layout + distilled_guidance_layer -> chroma",
      "convert_to_quant --distillation_large (distilled_guidance_layer, final_layer, img_in, "
      "txt_in)",
  };
}

}  // namespace

std::vector<ModelFamily> image_model_families() {
  return {qwen_image(), flux1(), flux2(), chroma(), z_image(), lumina2()};
}

}  // namespace qfp8
