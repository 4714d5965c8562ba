// conversion_plan.cpp — the one quantize predicate (spec §4, presets, --include/--exclude),
// the plan-time refusals (already quantized input, name clashes) and the output layout.
#include "plan/conversion_plan.hpp"

#include <algorithm>
#include <optional>
#include <regex>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/error.hpp"
#include "plan/comfy_metadata.hpp"
#include "plan/qwen_image_preset.hpp"

namespace qfp8 {
namespace {

// The reference converter's size threshold: smaller matrices gain little and lose most.
constexpr uint64_t kMinQuantizedElements = 4096;
constexpr const char* kLegacyMarker = "scaled_fp8";

struct Pattern {
  std::string text;
  std::regex regex;
};

std::vector<Pattern> compile_patterns(const std::vector<std::string>& texts, const char* flag) {
  std::vector<Pattern> patterns;
  for (const auto& text : texts) {
    try {
      patterns.push_back({text, std::regex(text, std::regex::ECMAScript)});
    } catch (const std::regex_error& error) {
      throw Error(ErrorCode::Usage,
                  std::string("invalid ") + flag + " regex '" + text + "': " + error.what());
    }
  }
  return patterns;
}

const Pattern* first_match(const std::vector<Pattern>& patterns, const std::string& name) {
  for (const auto& pattern : patterns) {
    if (std::regex_search(name, pattern.regex)) return &pattern;
  }
  return nullptr;
}

/// The one quantize predicate. Checks run cheapest first and the first that decides gives
/// the tensor's single reason.
class QuantizePredicate {
 public:
  QuantizePredicate(const PlanOptions& options, Preset applied)
      : include_(compile_patterns(options.include_patterns, "--include")),
        exclude_(compile_patterns(options.exclude_patterns, "--exclude")),
        qwen_image_(applied == Preset::QwenImage) {}

  TensorDecision decide(const TensorInfo& tensor) const {
    if (auto reason = structural_reason(tensor)) return keep(tensor, *reason);
    if (const auto* pattern = first_match(exclude_, tensor.name)) {
      return keep(tensor, "keep: --exclude '" + pattern->text + "'");
    }
    if (const auto* pattern = first_match(include_, tensor.name)) {
      return {tensor.name, true, "quantize: --include '" + pattern->text + "'"};
    }
    if (tensor.numel < kMinQuantizedElements) {
      return keep(tensor, "keep: " + std::to_string(tensor.numel) + " elements < " +
                              std::to_string(kMinQuantizedElements));
    }
    if (qwen_image_) {
      if (auto rule = qwen_image_keep_rule(tensor.name)) {
        return keep(tensor, "keep: qwen-image preset (" + *rule + ")");
      }
    }
    return {tensor.name, true, "quantize"};
  }

 private:
  /// What makes a tensor impossible to quantize: no ComfyUI layer (not `.weight`), not a
  /// float, not a matrix, or empty. Not even --include overrides these.
  static std::optional<std::string> structural_reason(const TensorInfo& tensor) {
    if (!has_suffix(tensor.name, kWeightSuffix)) return std::string("keep: not .weight");
    if (!is_float_source(tensor.dtype)) {
      return "keep: dtype " + std::string(dtype_name(tensor.dtype));
    }
    if (tensor.shape.size() != 2) return "keep: " + std::to_string(tensor.shape.size()) + "-D";
    if (tensor.numel == 0) return std::string("keep: 0 elements");
    return std::nullopt;
  }

  static TensorDecision keep(const TensorInfo& tensor, std::string reason) {
    return {tensor.name, false, std::move(reason)};
  }

  std::vector<Pattern> include_;
  std::vector<Pattern> exclude_;
  bool qwen_image_;
};

/// Refuses FP8 input: quantizing twice would square the error, and mixing the legacy
/// `scaled_fp8` layout with ours breaks ComfyUI's loader (spec §2).
void check_not_quantized(const Header& input, const std::string& file_label) {
  if (input.metadata.count(kQuantizationMetadataKey) > 0) {
    throw Error(ErrorCode::AlreadyQuantized, file_label, {},
                "cannot convert: input is already quantized (__metadata__ has "
                "_quantization_metadata)");
  }
  for (const auto& tensor : input.tensors) {
    if (tensor.dtype == Dtype::F8_E4M3) {
      throw Error(ErrorCode::AlreadyQuantized, file_label, tensor.name,
                  "cannot convert: input is already quantized (F8_E4M3 tensor)");
    }
    if (tensor.name == kLegacyMarker || has_suffix(tensor.name, std::string(".") + kLegacyMarker)) {
      throw Error(ErrorCode::AlreadyQuantized, file_label, tensor.name,
                  "cannot convert: input is already quantized (legacy scaled_fp8 marker)");
    }
  }
}

/// The names a quantized layer adds must not exist in the input already.
void check_name_clashes(const Header& input, const std::vector<TensorDecision>& decisions,
                        const std::string& file_label) {
  std::set<std::string> names;
  for (const auto& tensor : input.tensors) names.insert(tensor.name);
  for (const auto& decision : decisions) {
    if (!decision.quantize) continue;
    const std::string layer = layer_name_of(decision.name);
    for (const char* suffix : {kWeightScaleSuffix, kInputScaleSuffix, kComfyQuantSuffix}) {
      if (names.count(layer + suffix) > 0) {
        throw Error(ErrorCode::NameClash, file_label, layer + suffix,
                    "cannot quantize '" + decision.name + "': the input already has '" +
                        layer + suffix + "'");
      }
    }
  }
}

std::string input_scale_bytes() {
  // 1.0f little-endian: ComfyUI's default when the tensor is absent (spec §2).
  return std::string("\x00\x00\x80\x3f", 4);
}

/// The output tensors (unordered) and their planned dtypes/shapes.
std::vector<std::pair<OutputTensorPlan, PlannedTensor>> plan_outputs(
    const Header& input, const std::vector<TensorDecision>& decisions,
    const PlanOptions& options) {
  std::vector<std::pair<OutputTensorPlan, PlannedTensor>> outputs;
  const std::string config = layer_config_json(options.full_precision_mm);
  // Header::find is a linear search; checkpoints have thousands of tensors.
  std::unordered_map<std::string, const TensorInfo*> by_name;
  for (const auto& tensor : input.tensors) by_name[tensor.name] = &tensor;
  for (const auto& decision : decisions) {
    const TensorInfo& tensor = *by_name.at(decision.name);
    if (!decision.quantize) {
      outputs.push_back({{tensor.name, OutputSource::CopyOfInput, tensor.name, {}},
                         {tensor.name, tensor.dtype, tensor.shape}});
      continue;
    }
    const std::string layer = layer_name_of(tensor.name);
    outputs.push_back({{tensor.name, OutputSource::QuantizedWeight, tensor.name, {}},
                       {tensor.name, Dtype::F8_E4M3, tensor.shape}});
    outputs.push_back({{layer + kWeightScaleSuffix, OutputSource::WeightScale, tensor.name, {}},
                       {layer + kWeightScaleSuffix, Dtype::F32, {}}});
    if (options.write_input_scale) {
      outputs.push_back({{layer + kInputScaleSuffix, OutputSource::Constant, {}, input_scale_bytes()},
                         {layer + kInputScaleSuffix, Dtype::F32, {}}});
    }
    if (options.write_comfy_quant) {
      outputs.push_back({{layer + kComfyQuantSuffix, OutputSource::Constant, {}, config},
                         {layer + kComfyQuantSuffix, Dtype::U8, {config.size()}}});
    }
  }
  return outputs;
}

Preset resolve_preset(Preset requested, const Header& input) {
  if (requested != Preset::Auto) return requested;
  return is_qwen_image(input) ? Preset::QwenImage : Preset::None;
}

std::vector<TensorDecision> decide_all(const Header& input, const QuantizePredicate& predicate) {
  std::vector<TensorDecision> decisions;
  decisions.reserve(input.tensors.size());
  for (const auto& tensor : input.tensors) decisions.push_back(predicate.decide(tensor));
  std::sort(decisions.begin(), decisions.end(),
            [](const TensorDecision& a, const TensorDecision& b) { return a.name < b.name; });
  return decisions;
}

}  // namespace

Preset preset_from_name(const std::string& name) {
  if (name == "auto") return Preset::Auto;
  if (name == "none") return Preset::None;
  if (name == "qwen-image") return Preset::QwenImage;
  throw Error(ErrorCode::Usage,
              "unknown --preset '" + name + "' (expected auto, none or qwen-image)");
}

const char* preset_name(Preset preset) noexcept {
  switch (preset) {
    case Preset::Auto: return "auto";
    case Preset::None: return "none";
    case Preset::QwenImage: return "qwen-image";
  }
  return "unknown";
}

void check_plan_options(const PlanOptions& options) {
  compile_patterns(options.include_patterns, "--include");
  compile_patterns(options.exclude_patterns, "--exclude");
}

ConversionPlan make_conversion_plan(const Header& input, const PlanOptions& options,
                                    const std::string& file_label) {
  const Preset applied = resolve_preset(options.preset, input);
  const QuantizePredicate predicate(options, applied);  // bad regexes fail first: usage
  check_not_quantized(input, file_label);
  std::vector<TensorDecision> decisions = decide_all(input, predicate);
  check_name_clashes(input, decisions, file_label);

  std::vector<std::string> quantized_names;
  for (const auto& decision : decisions) {
    if (decision.quantize) quantized_names.push_back(decision.name);
  }
  std::map<std::string, std::string> metadata = input.metadata;
  if (!quantized_names.empty()) {
    metadata[kQuantizationMetadataKey] =
        quantization_metadata_json(quantized_names, options.full_precision_mm);
  }

  auto outputs = plan_outputs(input, decisions, options);
  std::vector<PlannedTensor> planned;
  planned.reserve(outputs.size());
  for (const auto& output : outputs) planned.push_back(output.second);
  ConversionPlan plan(SafetensorsLayout(std::move(planned), metadata, input.has_metadata));

  std::map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < outputs.size(); ++i) by_name[outputs[i].first.name] = i;
  for (const auto& tensor : plan.layout.tensors()) {
    plan.outputs.push_back(std::move(outputs[by_name.at(tensor.name)].first));
  }
  plan.detected_model = is_qwen_image(input) ? "qwen-image" : "";
  plan.applied_preset = applied;
  plan.decisions = std::move(decisions);
  plan.metadata = std::move(metadata);
  plan.quantized_count = quantized_names.size();
  plan.kept_count = plan.decisions.size() - quantized_names.size();
  return plan;
}

}  // namespace qfp8
