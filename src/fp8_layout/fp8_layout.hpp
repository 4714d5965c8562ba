// fp8_layout.hpp — how a quantized checkpoint declares its layout (docs/format.md): the
// layout kind (`_quantization_metadata`, `.comfy_quant` tensors only, or the legacy
// `scaled_fp8` marker), the declared layers with their per-layer config and format
// (docs/format.md#formats), each layer's weight/scale/scale_2/input-scale/marker tensors, and
// what a checked file's layers turned out to be (Fp8Layout). Parsing only: the rules on these facts and their findings live in verify/;
// dequantize/ and inspect/ read layouts through this module.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/quant_format.hpp"
#include "safetensors/reader.hpp"

namespace qfp8::fp8_layout {

/// The tensor every legacy-layout file carries. Full checkpoints carry it with their key
/// prefix (`model.diffusion_model.scaled_fp8`): ComfyUI looks it up as `{prefix}scaled_fp8`.
inline constexpr const char* kLegacyMarker = "scaled_fp8";
inline constexpr const char* kScaleWeightSuffix = ".scale_weight";  // legacy weight scale
inline constexpr const char* kScaleInputSuffix = ".scale_input";    // legacy input scale
/// The one format of the legacy layout: `scaled_fp8` files hold E4M3FN weights only.
inline constexpr QuantFormat kLegacyFormat = QuantFormat::Float8E4m3fn;
/// The key prefix of full checkpoints; ComfyUI detects it from the tensor names.
inline constexpr const char* kDiffusionPrefix = "model.diffusion_model.";

enum class LayoutKind {
  QuantizationMetadata,  // `__metadata__["_quantization_metadata"]` declares the layers
  ComfyQuantTensors,     // no metadata entry: per-layer `L.comfy_quant` tensors declare them
  Legacy,                // a `scaled_fp8` marker; every F8_E4M3 `.weight` is a layer
  Undeclared,            // none of these: no layer is declared
};

/// `text` minus `suffix` (which it must end with): suffix only, never a substring replace.
std::string strip_suffix(const std::string& text, const std::string& suffix);
/// `scaled_fp8`, bare or prefixed (`<prefix>.scaled_fp8`).
bool is_legacy_marker_name(const std::string& name);
/// The legacy marker tensor (first in file order); nullptr when absent.
const TensorInfo* find_legacy_marker(const SafetensorsFile& file);
/// Which declaration the file uses, in ComfyUI's order: the marker wins, then the metadata.
LayoutKind layout_kind(const SafetensorsFile& file);

/// The one float of a F32 tensor with one element, read little-endian.
float read_f32_scalar(const SafetensorsFile& file, const TensorInfo& tensor);

/// Declared layers by name (sorted: findings and plans come in name order) -> their config.
using LayerConfigs = std::map<std::string, nlohmann::json>;

/// `_quantization_metadata`, parsed.
struct MetadataDeclaration {
  enum class Problem { None, NotJson, NoLayersObject };
  Problem problem = Problem::None;
  std::string json_error;          // the parser's message, for NotJson
  bool format_version_1_0 = false;  // "format_version": "1.0" present
  LayerConfigs layers;             // empty unless problem == None
};
MetadataDeclaration parse_quantization_metadata(const std::string& text);

/// One `L.comfy_quant` tensor, read.
struct ComfyQuantTensor {
  enum class Problem { None, NotU8Vector, NotUtf8, NotJson };
  Problem problem = Problem::None;
  std::string text;        // the bytes as written (set unless NotU8Vector)
  std::string json_error;  // the parser's message, for NotJson
  nlohmann::json config;   // set when problem == None
};
ComfyQuantTensor read_comfy_quant(const SafetensorsFile& file, const TensorInfo& tensor);

/// Why a layer config is not usable: not an object, or its `format` names none of the
/// formats of core/quant_format.hpp.
enum class ConfigProblem { None, NotObject, WrongFormat };
/// A layer config read: its problem, or its format.
struct LayerFormat {
  ConfigProblem problem = ConfigProblem::None;
  QuantFormat format = QuantFormat::Float8E4m3fn;  // meaningful when problem == None
};
LayerFormat layer_config_format(const nlohmann::json& config);

/// A layer's tensors by name; each null when absent.
struct LayerTensors {
  const TensorInfo* weight = nullptr;
  const TensorInfo* weight_scale = nullptr;    // `.weight_scale`, legacy `.scale_weight`
  const TensorInfo* weight_scale_2 = nullptr;  // `.weight_scale_2` (nvfp4); never legacy
  const TensorInfo* input_scale = nullptr;     // `.input_scale`, legacy `.scale_input`
  const TensorInfo* comfy_quant = nullptr;     // never in the legacy layout
};
LayerTensors find_layer_tensors(const SafetensorsFile& file, const std::string& layer,
                                bool legacy);
/// Suffixes of a layer's tensors in the modern layout: weight, scale, scale_2, input scale,
/// marker.
const std::vector<std::string>& comfy_companion_suffixes();

/// The [rows, cols] of the weight that a layer's `L.weight` tensor (2-D) holds in `format`:
/// its shape, with nvfp4's packed columns (two codes per byte) counted twice.
std::array<uint64_t, 2> weight_matrix_shape(QuantFormat format, const TensorInfo& weight);

/// The same layer with the diffusion-model prefix added or removed, when ITS weight exists;
/// empty otherwise.
std::string prefix_counterpart(const SafetensorsFile& file, const std::string& layer);

/// Legacy layers: every F8_E4M3 `.weight` tensor, in name order.
std::vector<const TensorInfo*> legacy_fp8_weights(const SafetensorsFile& file);

/// A layer whose tensors passed the rules of its format.
struct UsableLayer {
  std::string name;
  QuantFormat format = QuantFormat::Float8E4m3fn;
};

/// What a checked file's layers are (verify's format check fills it; dequantize consumes
/// it): usable layers with their formats, the scale suffix to read them with, and every
/// tensor that belongs to a layer or to the marker (the rest is plain tensors).
struct Fp8Layout {
  bool legacy = false;
  std::string scale_suffix;             // ".weight_scale", or ".scale_weight" (legacy)
  std::size_t layer_count = 0;          // declared (or, legacy, scaled FP8) layers
  std::vector<UsableLayer> usable;      // layers with valid tensors for their format, sorted
  std::set<std::string> layer_tensors;  // tensors that belong to a layer or the marker
};

}  // namespace qfp8::fp8_layout
