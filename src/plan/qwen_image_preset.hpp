// qwen_image_preset.hpp — Qwen-Image detection and the layers its preset keeps in BF16
// (docs/format.md#qwen-image: convert_to_quant's `--qwen` list). Names may carry the
// full-checkpoint prefix `model.diffusion_model.`.
#pragma once

#include <optional>
#include <string>

#include "safetensors/tensor_info.hpp"

namespace qfp8 {

inline constexpr const char* kDiffusionModelPrefix = "model.diffusion_model.";

/// True when the header holds `txt_norm.weight`, bare or prefixed: the key that marks a
/// Qwen-Image transformer (docs/format.md#qwen-image).
bool is_qwen_image(const Header& header);

/// The preset rule that keeps tensor `name` in high precision ("img_in", "norm_out.*",
/// ...), or nullopt when the preset lets it be quantized.
std::optional<std::string> qwen_image_keep_rule(const std::string& name);

}  // namespace qfp8
