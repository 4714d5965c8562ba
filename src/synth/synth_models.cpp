// synth_models.cpp — the registry of synthetic models and the checks every request passes
// before a shape table runs.
#include "synth/synth_models.hpp"

#include "core/error.hpp"
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

// 10000 blocks is ~160 times the deepest published model: a typo, not a request.
constexpr unsigned kMaxBlocks = 10000;

const SynthModel& find_or_throw(const std::string& name) {
  for (const auto& model : synth_models()) {
    if (name == model.name) return model;
  }
  throw Error(ErrorCode::Usage,
              "cannot synthesize model '" + name + "': expected one of " + synth_model_names());
}

}  // namespace

const std::vector<SynthModel>& synth_models() {
  // Width limits: the gcd of the widths the model narrows (hidden, MLP, text features).
  // Qwen-Image 512 = gcd(3072, 3584); Wan 512 = gcd(5120, 13824, 4096); HunyuanVideo
  // 256 = gcd(3072, 4096, 768); 1.5 64 = gcd(2048, 3584, 1472, 1152); LTX-2 256 = gcd(4096,
  // 2048, 3840); LTX-Video 4096 would be 1 wide: 256 keeps it 16.
  static const std::vector<SynthModel> models = {
      {"qwen-image", "Qwen-Image transformer (20B)", 60, 512, true, qwen_image_tensors},
      {"wan", "Wan 2.1 / 2.2 14B text-to-video", 40, 512, true, wan_tensors},
      {"hunyuan-video", "HunyuanVideo 1.0 (13B; --blocks counts double blocks, twice as many single)",
       20, 256, true, hunyuan_video_tensors},
      {"hunyuan-video-1.5", "HunyuanVideo 1.5 text-to-video (8.3B)", 54, 64, true,
       hunyuan_video_15_tensors},
      {"ltxv", "LTX-Video 13B (0.9.7 / 0.9.8)", 48, 256, true, ltxv_tensors},
      {"ltx2", "LTX-2 19B audio-video diffusion model", 48, 256, true, ltx2_tensors},
      // 256 = gcd of Z-Image's 3840, 2560, 11520, 10240, 1024 and of Lumina 2's 2304, 3840,
      // 9216, 1024.
      {"z-image", "Z-Image transformer (6B; Turbo, Base)", 30, 256, true, z_image_tensors},
      {"lumina2", "Lumina Image 2.0 transformer (2.6B)", 26, 256, true, lumina2_tensors},
      // Width limits: head dims 128 / 16 = 8 (Flux layout, HiDream); SD 3.5's width follows
      // its depth, so it cannot be divided.
      {"flux1", "Flux.1 dev transformer (12B); --blocks N: N double + 2N single blocks", 19, 16,
       true, flux1_tensors},
      {"flux2", "Flux.2 dev transformer (32B); --blocks N: N double + 6N single blocks", 8, 16,
       true, flux2_tensors},
      {"chroma", "Chroma transformer (8.9B); --blocks N: N double + 2N single blocks", 19, 16,
       true, chroma_tensors},
      {"hidream", "HiDream-I1 transformer (17B, MoE); --blocks N: N double + 2N single blocks",
       16, 16, true, hidream_tensors},
      {"sd35", "SD 3.5 Large MMDiT (8B); --blocks N: N joint blocks, 64N wide (38 = Large)", 38,
       1, true, sd35_tensors},
      // Text encoders; width limits: 2048 = 2^11 in 10240 (T5 d_ff), 256 = 2^8 in 1280
      // (Qwen2.5-VL vision) and 2304 (Gemma 2), 512 = 2^9 in 2560 and 9728 (Qwen3), 1024 =
      // 2^10 in 1024 (key-value width) and 5120 (Mistral).
      {"t5xxl", "T5 v1.1 XXL encoder (4.8B)", 24, 2048, false, t5xxl_tensors},
      {"umt5xxl", "UMT5-XXL encoder (5.7B)", 24, 2048, false, umt5xxl_tensors},
      {"qwen25-vl-7b", "Qwen2.5-VL 7B language model and vision tower, no lm_head (7.7B)", 28, 256, false,
       qwen25_vl_7b_tensors},
      {"qwen3-4b", "Qwen3 4B (4.0B)", 36, 512, false, qwen3_4b_tensors},
      {"llama31-8b", "Llama 3.1 8B, no lm_head (7.5B)", 32, 1024, false, llama31_8b_tensors},
      {"mistral-small-3", "Mistral Small 3.x 24B, no lm_head (22.9B)", 40, 1024, false,
       mistral_small_3_tensors},
      {"gemma", "Gemma 2 2B (2.6B)", 26, 256, false, gemma_tensors},
  };
  return models;
}

std::string synth_model_names() {
  std::string names;
  for (const auto& model : synth_models()) {
    if (!names.empty()) names += ", ";
    names += model.name;
  }
  return names;
}

void validate_synth_config(const SynthConfig& config) {
  const SynthModel& model = find_or_throw(config.model);
  if (config.blocks > kMaxBlocks) {
    throw Error(ErrorCode::Usage, "cannot synthesize " + std::to_string(config.blocks) +
                                      " blocks: expected 1 to " + std::to_string(kMaxBlocks));
  }
  const unsigned div = config.width_div;
  if (div == 0 || div > model.max_width_div || (div & (div - 1)) != 0) {
    throw Error(ErrorCode::Usage, "cannot divide the width of " + config.model + " by " +
                                      std::to_string(div) + ": expected a power of two from 1 to " +
                                      std::to_string(model.max_width_div));
  }
  if (config.prefix && !model.diffusion_model) {
    throw Error(ErrorCode::Usage, "cannot prefix " + config.model +
                                      " with 'model.diffusion_model.': it is a text encoder");
  }
}

std::vector<SynthTensor> synth_tensors(const SynthConfig& config) {
  validate_synth_config(config);
  const SynthModel& model = find_or_throw(config.model);
  SynthConfig resolved = config;
  if (resolved.blocks == 0) resolved.blocks = model.full_blocks;
  return model.tensors(resolved);
}

}  // namespace qfp8
