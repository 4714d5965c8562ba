// conversion_plan.cpp — the one quantize predicate (docs/format.md#selection: presets,
// --include/--exclude; then the layer's format and whether its shape fits the format's
// blocks), the plan-time refusals (already quantized input, name clashes, colliding
// renames), the --strip-prefix/--add-prefix output names and the output layout (comfy or legacy).
#include "plan/conversion_plan.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/error.hpp"
#include "core/log.hpp"
#include "plan/checkpoint_kind.hpp"
#include "plan/comfy_metadata.hpp"
#include "plan/legacy_layout.hpp"
#include "plan/name_prefix.hpp"
#include "plan/output_tensors.hpp"

namespace qfp8 {
namespace {

// The reference converter's size threshold: smaller matrices gain little and lose most.
constexpr uint64_t kMinQuantizedElements = 4096;

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
  QuantizePredicate(const PlanOptions& options, const ModelFamily* family)
      : include_(compile_patterns(options.include_patterns, "--include")),
        exclude_(compile_patterns(options.exclude_patterns, "--exclude")),
        formats_(options.format, options.format_rules),
        family_(family) {}

  TensorDecision decide(const TensorInfo& tensor) const {
    TensorDecision decision = decide_quantized(tensor);
    if (decision.quantize) choose_format(tensor, decision);
    return decision;
  }

 private:
  TensorDecision decide_quantized(const TensorInfo& tensor) const {
    if (auto reason = structural_reason(tensor)) return keep(tensor, *reason);
    if (const auto* pattern = first_match(exclude_, tensor.name)) {
      return keep(tensor, "keep: --exclude '" + pattern->text + "'");
    }
    if (const auto* pattern = first_match(include_, tensor.name)) {
      return {tensor.name, true, "quantize: --include '" + pattern->text + "'", {}};
    }
    if (tensor.numel < kMinQuantizedElements) {
      return keep(tensor, "keep: " + std::to_string(tensor.numel) + " elements < " +
                              std::to_string(kMinQuantizedElements));
    }
    if (family_ != nullptr) {
      if (auto rule = family_keep_rule(*family_, tensor.name)) {
        return keep(tensor, "keep: " + std::string(family_->name) + " preset (" + *rule + ")");
      }
    }
    return {tensor.name, true, "quantize", {}};
  }

  /// The format rules of a layer that is quantized: a rule may keep it, and a block format
  /// keeps a weight that does not divide into its blocks. The default (float8_e4m3fn by
  /// --format) leaves the reason as it was; any other choice is named in it.
  void choose_format(const TensorInfo& tensor, TensorDecision& decision) const {
    const FormatChoice choice = formats_.choose(tensor.name);
    if (choice.keep) {
      decision.quantize = false;
      decision.reason = "keep: " + choice.why + "=keep";
      return;
    }
    const std::string problem = shape_problem(choice.format, tensor.shape[0], tensor.shape[1]);
    if (!problem.empty()) {
      decision.quantize = false;
      decision.reason = "keep: " + problem;
      return;
    }
    decision.format = choice.format;
    if (choice.format == QuantFormat::Float8E4m3fn && choice.why == "--format") return;
    decision.reason += decision.reason == "quantize" ? ": " : ", ";
    decision.reason += std::string(quant_format_name(choice.format)) + " (" + choice.why + ")";
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
    return {tensor.name, false, std::move(reason), {}};
  }

  std::vector<Pattern> include_;
  std::vector<Pattern> exclude_;
  FormatRules formats_;
  const ModelFamily* family_;  // the applied preset's family; nullptr: the bare rule
};

/// True when the header declares FP8 layers the way ComfyUI (and `dequantize`) finds them:
/// `_quantization_metadata`, a legacy `scaled_fp8` marker, or per-layer `.comfy_quant`.
bool declares_fp8_layers(const Header& input) {
  if (input.metadata.count(kQuantizationMetadataKey) > 0) return true;
  return std::any_of(input.tensors.begin(), input.tensors.end(), [](const TensorInfo& tensor) {
    return is_legacy_marker_name(tensor.name) || has_suffix(tensor.name, kComfyQuantSuffix);
  });
}

/// What a user can do with an already quantized input; only true advice. `dequantize`
/// restores a weight only from a declared layer's scale, so an FP8 file that declares
/// nothing (its scales unknown) is pointed back at its original checkpoint.
std::string already_quantized_advice(const Header& input) {
  const bool fp8 = std::any_of(input.tensors.begin(), input.tensors.end(), [](const TensorInfo& t) {
    return t.dtype == Dtype::F8_E4M3 && !is_legacy_marker_name(t.name);
  });
  if (!declares_fp8_layers(input)) {
    return "; nothing declares its FP8 layers (no _quantization_metadata, scaled_fp8 marker or "
           ".comfy_quant tensor), so their scales are unknown and 'qfp8-cuda dequantize' cannot "
           "restore them: convert the original BF16/F16/F32 checkpoint instead";
  }
  if (!fp8) {
    return "; it declares FP8 layers but holds no FP8 weight to dequantize: convert the "
           "original BF16/F16/F32 checkpoint instead";
  }
  return "; run 'qfp8-cuda dequantize IN OUT' first to get BF16 weights back";
}

/// Refuses FP8 input: quantizing twice would square the error, and mixing the legacy
/// `scaled_fp8` layout with ours breaks ComfyUI's loader (docs/format.md#legacy).
void check_not_quantized(const Header& input, const std::string& file_label) {
  if (input.metadata.count(kQuantizationMetadataKey) > 0) {
    throw Error(ErrorCode::AlreadyQuantized, file_label, {},
                "cannot convert: input is already quantized (__metadata__ has "
                "_quantization_metadata)" + already_quantized_advice(input));
  }
  for (const auto& tensor : input.tensors) {
    if (tensor.dtype == Dtype::F8_E4M3 || tensor.dtype == Dtype::F8_E5M2 ||
        tensor.dtype == Dtype::F8_E8M0) {
      throw Error(ErrorCode::AlreadyQuantized, file_label, tensor.name,
                  "cannot convert: input is already quantized (" +
                      std::string(dtype_name(tensor.dtype)) + " tensor)" +
                      already_quantized_advice(input));
    }
    if (is_legacy_marker_name(tensor.name)) {
      throw Error(ErrorCode::AlreadyQuantized, file_label, tensor.name,
                  "cannot convert: input is already quantized (legacy scaled_fp8 marker)" +
                      already_quantized_advice(input));
    }
  }
}

/// The legacy layout adds a `scaled_fp8` marker: refuses an output that already has one,
/// naming the byte-wise first.
void check_no_legacy_marker(const std::vector<TensorDecision>& decisions,
                            const std::string& file_label) {
  const std::string* first = nullptr;
  for (const auto& decision : decisions) {
    if (is_legacy_marker_name(decision.output_name) &&
        (first == nullptr || decision.output_name < *first)) {
      first = &decision.output_name;
    }
  }
  if (first == nullptr) return;
  throw Error(ErrorCode::NameClash, file_label, *first,
              "cannot write the legacy layout: the output already has '" + *first + "'");
}

/// Output names must be unique: two input names may not rename to one, and the names a
/// quantized layer adds (in the chosen layout) must not be output names already. Hashed
/// views of the decisions' names: a sorted map of copies cost more per tensor than the rest
/// of the plan (docs/benchmarks.md#design-measurements).
void check_name_clashes(const std::vector<TensorDecision>& decisions, const PlanOptions& options,
                        const std::string& file_label) {
  std::unordered_map<std::string_view, const std::string*> input_of;  // output -> input name
  input_of.reserve(decisions.size());
  for (const auto& decision : decisions) {
    const auto [it, inserted] = input_of.emplace(decision.output_name, &decision.name);
    if (!inserted) {
      throw Error(ErrorCode::NameClash, file_label, decision.output_name,
                  "cannot rename '" + *it->second + "' and '" + decision.name +
                      "': both would be named '" + decision.output_name + "'");
    }
  }
  const OutputLayout layout = options.layout.value_or(OutputLayout::Comfy);
  for (const auto& decision : decisions) {
    if (!decision.quantize) continue;
    const std::string layer = layer_name_of(decision.output_name);
    for (const auto& suffix : companion_suffixes(layout, decision.format)) {
      if (input_of.count(layer + suffix) > 0) {
        throw Error(ErrorCode::NameClash, file_label, layer + suffix,
                    "cannot quantize '" + decision.name + "': the output already has '" +
                        layer + suffix + "'");
      }
    }
  }
  if (options.layout == OutputLayout::Legacy) check_no_legacy_marker(decisions, file_label);
}

/// A --strip-prefix that matches nothing is most likely a typo, but harmless: warn.
void warn_unused_strip(const Header& input, const NameRewrite& rewrite,
                       const std::string& file_label) {
  if (rewrite.strip.empty()) return;
  for (const auto& tensor : input.tensors) {
    if (rewrite.strips(tensor.name)) return;
  }
  log_warn("{}: --strip-prefix '{}' matches no tensor name; names are left as they are",
               file_label, rewrite.strip);
}

/// Auto applies a family only when exactly one matches: two matches (a merged or unusual
/// checkpoint) or none fall back to the bare rule, and the CLI warns about either.
Preset resolve_preset(Preset requested, const FamilyDetection& detection) {
  if (requested != Preset::Auto) return requested;
  const FamilyMatch* match = detection.unique();
  return match != nullptr ? Preset::of_family(match->family->name) : Preset::None;
}

/// The first text-encoder family among the applied one and the matches, or nullptr.
const ModelFamily* text_encoder_of(const FamilyDetection& detection, Preset applied) {
  const ModelFamily* family = find_model_family(applied.name());
  if (family != nullptr && is_text_encoder_family(*family)) return family;
  for (const auto& match : detection.matches) {
    if (is_text_encoder_family(*match.family)) return match.family;
  }
  return nullptr;
}

/// The input tensors in byte-wise name order (the decisions' order).
std::vector<const TensorInfo*> by_name(const Header& input) {
  std::vector<const TensorInfo*> sources;
  sources.reserve(input.tensors.size());
  for (const auto& tensor : input.tensors) sources.push_back(&tensor);
  const auto less = [](const TensorInfo* a, const TensorInfo* b) { return a->name < b->name; };
  if (!std::is_sorted(sources.begin(), sources.end(), less)) {
    std::sort(sources.begin(), sources.end(), less);
  }
  return sources;
}

/// Decisions on the input names (presets and regexes see them), in the order of `sources`;
/// output names from `rewrite`.
std::vector<TensorDecision> decide_all(const std::vector<const TensorInfo*>& sources,
                                       const QuantizePredicate& predicate,
                                       const PlanOptions& options) {
  const NameRewrite rewrite{options.strip_prefix, options.add_prefix};
  std::vector<TensorDecision> decisions;
  decisions.reserve(sources.size());
  for (const TensorInfo* source : sources) {
    const TensorInfo& tensor = *source;
    TensorDecision decision = predicate.decide(tensor);
    decision.output_name = rewrite.rename(tensor.name);
    if (!decision.quantize && options.keep_as_bf16 &&
        (tensor.dtype == Dtype::F16 || tensor.dtype == Dtype::F32)) {
      decision.reason += ", as BF16";
    }
    decisions.push_back(std::move(decision));
  }
  return decisions;
}

/// The outputs' plans in the layout's (= write) order.
std::vector<OutputTensorPlan> in_layout_order(std::vector<PlannedOutput> outputs,
                                              const SafetensorsLayout& layout) {
  std::vector<OutputTensorPlan> plans;
  plans.reserve(outputs.size());
  for (const std::size_t i : layout.planned_order()) plans.push_back(std::move(outputs[i].plan));
  return plans;
}

}  // namespace

const Preset Preset::Auto("auto");
const Preset Preset::None("none");
const Preset Preset::QwenImage("qwen-image");

bool Preset::operator==(const Preset& other) const noexcept {
  return std::strcmp(name_, other.name_) == 0;
}

Preset preset_from_name(const std::string& name) {
  if (name == "auto") return Preset::Auto;
  if (name == "none") return Preset::None;
  if (const ModelFamily* family = find_model_family(name)) return Preset::of_family(family->name);
  throw Error(ErrorCode::Usage, "unknown --preset '" + name + "' (expected auto, none, list or "
                                "a model family: " + model_family_names() + ")");
}

const char* preset_name(Preset preset) noexcept { return preset.name(); }

OutputLayout output_layout_from_name(const std::string& name) {
  if (name == "comfy") return OutputLayout::Comfy;
  if (name == "legacy") return OutputLayout::Legacy;
  throw Error(ErrorCode::Usage, "unknown --layout '" + name + "' (expected comfy or legacy)");
}

const char* output_layout_name(OutputLayout layout) noexcept {
  return layout == OutputLayout::Legacy ? "legacy" : "comfy";
}

OutputLayout resolve_output_layout(const PlanOptions& options, const FamilyDetection& detection,
                                   Preset applied, bool any_other_format, std::string& reason) {
  reason.clear();
  if (options.layout) return *options.layout;
  const ModelFamily* encoder = text_encoder_of(detection, applied);
  if (encoder == nullptr) return OutputLayout::Comfy;
  if (any_other_format) {
    reason = std::string("text encoder (") + encoder->name +
             "): comfy layout, since the legacy layout (scaled_fp8) holds float8_e4m3fn only; "
             "ComfyUI reads other formats of a text encoder from the comfy layout";
    return OutputLayout::Comfy;
  }
  reason = std::string("text encoder (") + encoder->name +
           "): legacy layout (scaled_fp8), which every ComfyUI text-encoder loader reads; ComfyUI "
           "before 0.4.0 loads a text encoder of the comfy layout with unscaled weights or not "
           "at all (--layout comfy writes it anyway)";
  return OutputLayout::Legacy;
}

void check_plan_options(const PlanOptions& options) {
  compile_patterns(options.include_patterns, "--include");
  compile_patterns(options.exclude_patterns, "--exclude");
  const FormatRules rules(options.format, options.format_rules);
  if (options.layout == OutputLayout::Legacy && !rules.only_default_format()) {
    throw Error(ErrorCode::Usage,
                "cannot write --layout legacy with a format other than float8_e4m3fn: the "
                "legacy layout (scaled_fp8) has no way to declare one; use --layout comfy");
  }
}

/// Without `.comfy_quant` tensors, ComfyUI finds a layer's format only through the
/// `_quantization_metadata` names, which it uses as they are written: its Load Diffusion Model
/// strips `model.diffusion_model.` from the tensors but not from those names, and Load
/// Checkpoint needs the prefix in both. So a prefixed layer written so would load without
/// its scale in one of the two (measured in ComfyUI: every FP8 weight unscaled, cosine 0.14).
void require_loadable_without_comfy_quant(const std::vector<std::string>& quantized_names,
                                          const std::string& file_label) {
  const std::string prefix = kDiffusionModelPrefix;
  for (const auto& name : quantized_names) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    throw Error(ErrorCode::InvalidPlan, file_label, name,
                "cannot write --no-comfy-quant with 'model.diffusion_model.'-prefixed layers: "
                "ComfyUI's Load Diffusion Model strips the prefix from the tensors but not from "
                "the _quantization_metadata names, so these layers would load without their "
                "scales; keep the .comfy_quant tensors (the default) or add --strip-prefix "
                "model.diffusion_model.");
  }
}

ConversionPlan make_conversion_plan(const Header& input, const PlanOptions& options,
                                    const std::string& file_label) {
  FamilyDetection detection = detect_model_family(input);
  const Preset applied = resolve_preset(options.preset, detection);
  // After resolving, a preset is None (no family: the bare rule) or a registry name.
  // Bad regexes and a legacy layout with other formats fail first, as usage errors.
  check_plan_options(options);
  const QuantizePredicate predicate(options, find_model_family(applied.name()));
  require_conversion_target(input, file_label);  // adapters, VAEs, other quantization formats
  check_not_quantized(input, file_label);
  warn_unused_strip(input, {options.strip_prefix, options.add_prefix}, file_label);
  const std::vector<const TensorInfo*> sources = by_name(input);
  std::vector<TensorDecision> decisions = decide_all(sources, predicate, options);
  const bool any_other_format =
      std::any_of(decisions.begin(), decisions.end(), [](const TensorDecision& decision) {
        return decision.quantize && decision.format != QuantFormat::Float8E4m3fn;
      });
  std::string layout_reason;
  PlanOptions resolved = options;
  resolved.layout = resolve_output_layout(options, detection, applied, any_other_format, layout_reason);
  const OutputLayout layout = *resolved.layout;
  check_name_clashes(decisions, resolved, file_label);

  // Layer names come from the OUTPUT names: metadata and tensors share one prefix
  // (docs/format.md#metadata).
  std::vector<std::string> quantized_names;
  std::vector<QuantizedWeightName> quantized_layers;
  for (const auto& decision : decisions) {
    if (!decision.quantize) continue;
    quantized_names.push_back(decision.output_name);
    quantized_layers.push_back({decision.output_name, decision.format});
  }
  if (layout == OutputLayout::Comfy && !options.write_comfy_quant) {
    require_loadable_without_comfy_quant(quantized_names, file_label);
  }
  std::map<std::string, std::string> metadata = input.metadata;
  if (!quantized_names.empty() && layout == OutputLayout::Comfy) {
    metadata[kQuantizationMetadataKey] =
        quantization_metadata_json_of(std::move(quantized_layers), options.full_precision_mm);
  }

  auto outputs = plan_output_tensors(sources, decisions, resolved);
  std::vector<PlannedTensor> planned;
  planned.reserve(outputs.size());
  for (auto& output : outputs) planned.push_back(std::move(output.tensor));
  ConversionPlan plan(SafetensorsLayout(std::move(planned), metadata, input.has_metadata));
  plan.outputs = in_layout_order(std::move(outputs), plan.layout);
  plan.detected_model = detection.unique() != nullptr ? detection.unique()->family->name : "";
  plan.detection = std::move(detection);
  plan.applied_preset = applied;
  plan.written_layout = layout;
  plan.layout_reason = std::move(layout_reason);
  plan.decisions = std::move(decisions);
  plan.metadata = std::move(metadata);
  plan.quantized_count = quantized_names.size();
  plan.kept_count = plan.decisions.size() - quantized_names.size();
  return plan;
}

void require_quantized_layers(const ConversionPlan& plan, const std::string& file_label) {
  if (plan.quantized_count > 0) return;
  throw Error(ErrorCode::NothingToQuantize, file_label, {},
              "cannot convert: no tensor would be quantized (" +
                  std::to_string(plan.kept_count) +
                  " kept), so the output would be a copy of the input, not an FP8 checkpoint; "
                  "check --preset, --include and --exclude (convert --dry-run shows the reason "
                  "for every tensor)");
}

}  // namespace qfp8
