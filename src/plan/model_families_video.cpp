// model_families_video.cpp — the registry's video models: one entry per family, in ComfyUI's
// key naming (docs/models.md#families has the same facts in prose, with their sources).
#include "plan/model_family_groups.hpp"

namespace qfp8 {
namespace {

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

}  // namespace

std::vector<ModelFamily> video_model_families() {
  return {wan()};
}

}  // namespace qfp8
