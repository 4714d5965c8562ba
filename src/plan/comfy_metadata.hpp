// comfy_metadata.hpp — the ComfyUI names and JSON of docs/format.md#layer: layer names, the
// per-layer config (`L.comfy_quant` bytes) and `__metadata__["_quantization_metadata"]`, byte for
// byte as Python's json.dumps writes them with its defaults.
#pragma once

#include <string>
#include <vector>

#include "core/quant_format.hpp"

namespace qfp8 {

inline constexpr const char* kQuantizationMetadataKey = "_quantization_metadata";
inline constexpr const char* kWeightSuffix = ".weight";
inline constexpr const char* kWeightScaleSuffix = ".weight_scale";
inline constexpr const char* kInputScaleSuffix = ".input_scale";
inline constexpr const char* kComfyQuantSuffix = ".comfy_quant";

/// True when `name` ends with `suffix`.
bool has_suffix(const std::string& name, const std::string& suffix);

/// "a.b.weight" -> "a.b": the `.weight` suffix removed (suffix only, never a substring
/// replace). `weight_name` must end with ".weight".
std::string layer_name_of(const std::string& weight_name);

inline constexpr const char* kWeightScale2Suffix = ".weight_scale_2";

/// `{"format": "<format>"}` or, with full_precision_mm,
/// `{"format": "<format>", "full_precision_matrix_mult": true}`: for float8_e4m3fn 27 and
/// 63 bytes.
std::string layer_config_json(QuantFormat format, bool full_precision_mm);
/// The float8_e4m3fn config.
std::string layer_config_json(bool full_precision_mm);

/// A JSON string literal as json.dumps(ensure_ascii=True) writes it: \" \\ \n \r \t \b \f,
/// other controls, DEL and every non-ASCII code point as \uXXXX (lowercase hex; surrogate
/// pairs above U+FFFF). `utf8` must be valid UTF-8 (the reader guarantees it for names).
std::string json_quote_ascii(const std::string& utf8);

/// A quantized weight's output name (ending in ".weight") and its format.
struct QuantizedWeightName {
  std::string name;
  QuantFormat format = QuantFormat::Float8E4m3fn;
};

/// `{"format_version": "1.0", "layers": {"<L>": <config>, ...}}` for the quantized
/// `weights`, layers in byte-wise order of the tensor names, as the reference converter
/// walks them, each with its format's config.
std::string quantization_metadata_json_of(std::vector<QuantizedWeightName> weights,
                                       bool full_precision_mm);
/// The same with every layer in float8_e4m3fn.
std::string quantization_metadata_json(const std::vector<std::string>& weight_names,
                                       bool full_precision_mm);

}  // namespace qfp8
