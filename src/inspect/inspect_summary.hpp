// inspect_summary.hpp — the facts `qfp8-cuda inspect` reports about a validated
// safetensors file: sizes, dtype totals, metadata, and the ComfyUI quantization markers (the
// `_quantization_metadata` layers by format, the legacy `scaled_fp8` tensor, scale tensors)
// with each quantized layer's format (docs/format.md#formats).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plan/checkpoint_kind.hpp"
#include "safetensors/reader.hpp"

namespace qfp8 {

struct DtypeTotal {
  Dtype dtype = Dtype::U8;
  uint64_t tensors = 0;
  uint64_t bytes = 0;
};

/// `__metadata__["_quantization_metadata"]`, when present.
struct QuantizationMetadataSummary {
  bool valid = false;                // parsed as a JSON object with an object `layers`
  std::string problem;               // why not valid
  std::string format_version;        // as written ("1.0"); JSON text if not a string
  uint64_t layer_count = 0;
  std::map<std::string, uint64_t> layers_by_format;  // "float8_e4m3fn" -> 846
  std::map<std::string, std::string> layer_formats;  // layer -> its format, "(no format)"
};

/// Where a file's quantized layers are declared (docs/format.md#comfyui, #legacy).
enum class LayerDeclaration { None, QuantizationMetadata, ComfyQuantTensors, LegacyMarker };

/// The legacy ComfyUI layout's marker tensor (docs/format.md#legacy): `scaled_fp8`, shape [0], or
/// [2] for full-precision matmul.
struct LegacyMarkerSummary {
  std::string tensor_name;
  std::vector<uint64_t> shape;
  bool full_precision_mm = false;
};

struct InspectSummary {
  std::string path;
  uint64_t file_size = 0;
  uint64_t header_size = 0;  // N, padding included
  uint64_t data_size = 0;
  std::vector<DtypeTotal> dtypes;  // dtype descending, as the reference writer orders them
  bool has_metadata = false;
  std::map<std::string, std::string> metadata;  // full values
  std::optional<QuantizationMetadataSummary> quantization;
  std::optional<LegacyMarkerSummary> legacy_scaled_fp8;
  // Per-layer companion tensors, counted by name suffix.
  uint64_t weight_scale_tensors = 0;  // L.weight_scale
  uint64_t weight_scale_2_tensors = 0;  // L.weight_scale_2 (nvfp4)
  uint64_t input_scale_tensors = 0;   // L.input_scale
  uint64_t comfy_quant_tensors = 0;   // L.comfy_quant
  uint64_t scale_weight_tensors = 0;  // L.scale_weight (legacy)
  std::vector<TensorInfo> tensors;    // file order
  KindVerdict kind;                   // model, or what `convert` would refuse it as
  // Each quantized layer's format, by layer name, from the declaration ComfyUI reads: the
  // metadata, else the `.comfy_quant` tensors (summarize(file) only: their bytes are read),
  // else, in a legacy file, every F8_E4M3 `.weight` (float8_e4m3fn).
  LayerDeclaration declared_by = LayerDeclaration::None;
  std::map<std::string, std::string> layer_formats;
  std::map<std::string, uint64_t> layers_by_format;  // counts of layer_formats

  std::size_t tensor_count() const { return tensors.size(); }
};

/// Summarizes an already validated header (of a file of `file_size` bytes at `path`).
/// Layers declared only by `.comfy_quant` tensors need the tensors' bytes: summarize(file).
InspectSummary summarize(const Header& header, const std::string& path, uint64_t file_size);
/// The same, with the formats of layers declared by `.comfy_quant` tensors read from `file`.
InspectSummary summarize(const SafetensorsFile& file);

/// "_quantization_metadata", ".comfy_quant tensors", "scaled_fp8 marker", "none".
const char* layer_declaration_name(LayerDeclaration declaration) noexcept;

/// Reads `_quantization_metadata` text: format_version and layers counted by "format".
QuantizationMetadataSummary summarize_quantization_metadata(const std::string& json_text);

/// `text` cut to at most `max_bytes` on a UTF-8 boundary, with "..." when cut.
std::string truncate_for_display(const std::string& text, std::size_t max_bytes = 80);

/// The report as one JSON object (metadata values in full); `with_tensors` adds the list.
nlohmann::json summary_to_json(const InspectSummary& summary, bool with_tensors);

/// The report for people: aligned text, metadata values truncated, control characters
/// shown as \xNN; `with_tensors` lists every tensor.
std::string summary_to_text(const InspectSummary& summary, bool with_tensors);

}  // namespace qfp8
