// name_prefix.hpp — `convert --strip-prefix P` / `--add-prefix P`: the one renaming of
// tensor names between input and output. Decisions (presets, --include/--exclude) are made
// on the input names; every output name, and every `_quantization_metadata` layer name,
// comes from rename(): metadata and tensors can therefore never disagree on a prefix.
#pragma once

#include <string>

namespace qfp8 {

/// The prefix of a full checkpoint's diffusion-model keys; ComfyUI loads both forms.
/// (synth/qwen_image_shapes.hpp has its own copy: synth may not include plan.)
inline constexpr const char* kDiffusionModelPrefix = "model.diffusion_model.";

struct NameRewrite {
  std::string strip;  // removed where a name starts with it (names without it are kept)
  std::string add;    // then prepended to every name

  bool empty() const { return strip.empty() && add.empty(); }
  /// True when `name` carries the prefix to strip.
  bool strips(const std::string& name) const;
  /// The output name of input tensor `name`: strip first, then add.
  std::string rename(const std::string& name) const;
};

}  // namespace qfp8
