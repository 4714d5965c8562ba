// synth_tensor.hpp — what a synthetic checkpoint is made of: the request (model, depth, width
// divisor, prefix, seed), the tensors a model's shape table yields, and the builder those
// tables use. Values are generated later (synth_values), from each tensor's kind and name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qfp8 {

struct SynthConfig {
  std::string model = "qwen-image";  // a name of synth_models()
  unsigned blocks = 0;     // transformer blocks 0 .. blocks-1; 0: the model's full depth
  unsigned width_div = 1;  // divides the model widths; a power of two up to the model's limit
  bool prefix = false;     // names start with "model.diffusion_model." (full checkpoints)
  uint64_t seed = 0;
};

/// What a tensor's values look like; decides the distribution in synth_values.
enum class SynthKind {
  LinearWeight,  // N(0, 0.02) with rare large outliers and a few BF16 subnormals
  Bias,          // N(0, 0.002) with a few subnormals
  NormWeight,    // RMSNorm gain around 1.0
  Zero,          // all zeros (a layer whose output is never used)
};

struct SynthTensor {
  std::string name;       // as written, prefix included
  std::string base_name;  // without the prefix: seeds the values, so --prefix keeps them
  std::vector<uint64_t> shape;
  SynthKind kind = SynthKind::LinearWeight;

  uint64_t numel() const;
};

inline constexpr const char* kSynthModelPrefix = "model.diffusion_model.";

/// Appends a model's tensors, prefixed as the config asks. Shape tables call it layer by layer.
class SynthTable {
 public:
  SynthTable(const SynthConfig& config, std::vector<SynthTensor>& out);

  /// A Linear: weight [out, in] and, unless `bias` is false, bias [out]. `zero`: both all-zero.
  void linear(const std::string& layer, uint64_t out_features, uint64_t in_features,
              bool bias = true, bool zero = false);
  /// A norm's gain: weight [width] (`.weight`; `suffix` for e.g. BFL's `.scale`).
  void norm(const std::string& layer, uint64_t width, const char* suffix = ".weight");
  /// Any other tensor, named in full (without the prefix).
  void tensor(std::string name, std::vector<uint64_t> shape, SynthKind kind);

 private:
  std::string prefix_;
  std::vector<SynthTensor>& out_;
};

}  // namespace qfp8
