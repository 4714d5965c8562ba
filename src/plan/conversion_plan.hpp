// conversion_plan.hpp — decides, before a byte is written, what happens to every input
// tensor (quantize or keep, and why) and what the output holds (names, dtypes, shapes,
// metadata, layout). `--dry-run` prints this plan; the converter executes exactly it.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/quant_format.hpp"
#include "plan/format_rules.hpp"
#include "plan/model_families.hpp"
#include "safetensors/layout.hpp"
#include "safetensors/tensor_info.hpp"

namespace qfp8 {

/// Which keep list applies: `auto` (the detected family's, docs/models.md#families), `none`
/// (the bare rule), or a model family of the registry (plan/model_families.hpp) by name.
class Preset {
 public:
  static const Preset Auto;
  static const Preset None;
  static const Preset QwenImage;
  /// The preset of a registry family; `family_name` must outlive the preset (the registry's).
  static Preset of_family(const char* family_name) { return Preset(family_name); }

  const char* name() const noexcept { return name_; }
  bool operator==(const Preset& other) const noexcept;
  bool operator!=(const Preset& other) const noexcept { return !(*this == other); }

 private:
  // constexpr: the three constants are constant-initialized, safe in any static initializer.
  constexpr explicit Preset(const char* name) : name_(name) {}
  const char* name_;
};

/// "auto", "none" or a family name; throws Error(Usage) listing the names for anything else.
Preset preset_from_name(const std::string& name);
const char* preset_name(Preset preset) noexcept;

/// Which ComfyUI FP8 layout the output uses (docs/format.md#metadata, #legacy):
/// `_quantization_metadata` + `L.weight_scale` (+ `L.comfy_quant`), or the older `scaled_fp8` +
/// `L.scale_weight`.
enum class OutputLayout { Comfy, Legacy };

/// "comfy", "legacy"; throws Error(Usage) for anything else.
OutputLayout output_layout_from_name(const std::string& name);
const char* output_layout_name(OutputLayout layout) noexcept;

struct PlanOptions {
  Preset preset = Preset::Auto;
  // ECMAScript regexes searched (std::regex_search) in the full tensor name. --include
  // forces quantization past the size threshold and the preset, but only for tensors that
  // are structurally quantizable (`.weight`, F16/BF16/F32, 2-D): anything else has no
  // ComfyUI layer to become. --exclude always keeps, and wins over --include.
  std::vector<std::string> include_patterns;
  std::vector<std::string> exclude_patterns;
  bool write_comfy_quant = true;      // L.comfy_quant U8 tensors (--no-comfy-quant omits)
  bool write_input_scale = false;     // L.input_scale = 1.0 (--write-input-scale)
  bool full_precision_mm = false;     // "full_precision_matrix_mult": true (--full-precision-mm)
  // --layout comfy|legacy; unset: the plan decides (resolve_output_layout): legacy for a
  // text encoder, comfy for everything else.
  std::optional<OutputLayout> layout;
  // --strip-prefix / --add-prefix: output names are input names with `strip_prefix`
  // removed where present, then `add_prefix` prepended. Presets and --include/--exclude
  // always see the INPUT names; metadata layer names always follow the OUTPUT names.
  std::string strip_prefix;
  std::string add_prefix;
  bool keep_as_bf16 = false;          // --keep-dtype bf16: kept F16/F32 tensors become BF16
  // --format: every quantized layer's format unless a rule says otherwise; --format-for
  // and --layer-config rules, in order (plan/format_rules.hpp).
  QuantFormat format = QuantFormat::Float8E4m3fn;
  std::vector<FormatRule> format_rules;
};

/// What happens to one input tensor, and the one reason shown to the user
/// ("quantize", "keep: 1-D", "keep: qwen-image preset (img_in)", "keep: --exclude '...'").
struct TensorDecision {
  std::string name;  // the input name
  bool quantize = false;
  std::string reason;
  std::string output_name;  // after --strip-prefix/--add-prefix (== name without them)
  QuantFormat format = QuantFormat::Float8E4m3fn;  // when quantized
};

/// Where one output tensor's bytes come from.
enum class OutputSource {
  CopyOfInput,      // bytes of input tensor `source_name`, unchanged
  QuantizedWeight,  // input tensor `source_name` quantized in `format`
  WeightScale,      // F32 0-d per-tensor scale of input tensor `source_name` (weight_scale;
                    // nvfp4: weight_scale_2), known once its absmax is
  BlockScales,      // the blocked block scales of input tensor `source_name` (mxfp8, nvfp4),
                    // known after quantizing it
  Constant,         // `constant_bytes` (input_scale 1.0f, comfy_quant JSON, scaled_fp8)
  ConvertedToBf16,  // input tensor `source_name` (F16/F32) rounded to BF16, nearest even
};

struct OutputTensorPlan {
  std::string name;
  OutputSource source = OutputSource::CopyOfInput;
  std::string source_name;
  std::string constant_bytes;
  QuantFormat format = QuantFormat::Float8E4m3fn;  // of a QuantizedWeight
};

struct ConversionPlan {
  /// The layout has no empty state, so a plan is born with its layout.
  explicit ConversionPlan(SafetensorsLayout output_layout) : layout(std::move(output_layout)) {}

  std::string detected_model;                 // the one matching family ("qwen-image"), or ""
  FamilyDetection detection;                  // every matching family, with its tensors
  Preset applied_preset = Preset::None;       // what Auto resolved to
  OutputLayout written_layout = OutputLayout::Comfy;  // the layout written
  std::string layout_reason;                  // why, when the plan chose it (a text encoder)
  std::vector<TensorDecision> decisions;      // one per input tensor, byte-wise name order
  std::vector<OutputTensorPlan> outputs;      // in layout (write) order: outputs[i] is
                                              // layout.tensors()[i]
  SafetensorsLayout layout;                   // header + offsets of the output file
  std::map<std::string, std::string> metadata;  // the output's __metadata__
  std::size_t quantized_count = 0;
  std::size_t kept_count = 0;
};

/// The layout written: `options.layout` when set; otherwise comfy when any layer is quantized
/// in a format other than float8_e4m3fn (`any_other_format`: the legacy layout has no way to
/// say so); otherwise legacy when the applied family,
/// or any family the header matches, is a text encoder (docs/models.md#text-encoder-layout:
/// every ComfyUI that loads FP8 text encoders reads `scaled_fp8`; before ComfyUI 0.4.0 a
/// text encoder in the comfy layout loads with unscaled weights or not at all), else comfy. `reason` receives why legacy was chosen, or is cleared.
OutputLayout resolve_output_layout(const PlanOptions& options, const FamilyDetection& detection,
                                   Preset applied, bool any_other_format, std::string& reason);

/// Compiles the --include/--exclude and format-rule regexes; throws Error(Usage) naming a
/// bad one, and for --layout legacy with a format other than float8_e4m3fn. Lets the
/// command line fail as a usage error before any file is opened.
void check_plan_options(const PlanOptions& options);

/// Builds the plan for `input` (validated header of `file_label`). Throws InvalidPlan /
/// NameClash (also: two tensors renamed to one name) / AlreadyQuantized /
/// NotAConversionTarget (a LoRA, LyCORIS adapter, VAE or other quantization format:
/// plan/checkpoint_kind.hpp) / Usage (bad regex) — all before any output exists. A --strip-prefix that matches no tensor is only
/// a warning (logged): the names are then left as they are.
/// `_quantization_metadata` is written only when at least one layer is quantized: with
/// none, the output is a plain copy that no loader should treat as FP8.
ConversionPlan make_conversion_plan(const Header& input, const PlanOptions& options,
                                    const std::string& file_label);

/// Throws NothingToQuantize (exit 2) when the plan quantizes no layer. `convert` refuses
/// such a plan rather than write a copy of the input that is no FP8 checkpoint (and that
/// verify, like the reference verifier, fails for its missing `_quantization_metadata`).
void require_quantized_layers(const ConversionPlan& plan, const std::string& file_label);

}  // namespace qfp8
