// qwen_image_preset.cpp — the Qwen-Image keep list (docs/format.md#qwen-image), matched on layer
// names with the optional `model.diffusion_model.` prefix stripped.
#include "plan/qwen_image_preset.hpp"

#include "plan/comfy_metadata.hpp"

namespace qfp8 {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

std::string strip_model_prefix(const std::string& name) {
  return starts_with(name, kDiffusionModelPrefix)
             ? name.substr(std::string(kDiffusionModelPrefix).size())
             : name;
}

}  // namespace

bool is_qwen_image(const Header& header) {
  return header.find("txt_norm.weight") != nullptr ||
         header.find(std::string(kDiffusionModelPrefix) + "txt_norm.weight") != nullptr;
}

std::optional<std::string> qwen_image_keep_rule(const std::string& name) {
  if (!has_suffix(name, kWeightSuffix)) return std::nullopt;
  const std::string layer = strip_model_prefix(layer_name_of(name));
  // Whole subtrees: the timestep/text embedders and the final modulation (~0.5 % of the
  // parameters, where FP8 error shows most).
  for (const char* subtree : {"time_text_embed", "norm_out"}) {
    if (starts_with(layer, std::string(subtree) + ".")) return std::string(subtree) + ".*";
  }
  // Single layers: input/output projections, and block 0's image modulation.
  for (const char* exact : {"img_in", "txt_in", "proj_out", "transformer_blocks.0.img_mod.1"}) {
    if (layer == exact) return std::string(exact);
  }
  return std::nullopt;
}

}  // namespace qfp8
