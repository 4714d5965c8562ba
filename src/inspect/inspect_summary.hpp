// inspect_summary.hpp — the facts `qfp8-cuda inspect` reports about a validated
// safetensors file: sizes, dtype totals, metadata, and the ComfyUI FP8 markers (the
// `_quantization_metadata` layers by format, the legacy `scaled_fp8` tensor, scale tensors).
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
};

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
  uint64_t input_scale_tensors = 0;   // L.input_scale
  uint64_t comfy_quant_tensors = 0;   // L.comfy_quant
  uint64_t scale_weight_tensors = 0;  // L.scale_weight (legacy)
  std::vector<TensorInfo> tensors;    // file order
  KindVerdict kind;                   // model, or what `convert` would refuse it as

  std::size_t tensor_count() const { return tensors.size(); }
};

/// Summarizes an already validated header (of a file of `file_size` bytes at `path`).
InspectSummary summarize(const Header& header, const std::string& path, uint64_t file_size);
inline InspectSummary summarize(const SafetensorsFile& file) {
  return summarize(file.header(), file.path(), file.file_size());
}

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
