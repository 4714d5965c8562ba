// format_checker.hpp — the format contract of an FP8 scaled checkpoint on EVERY layer:
// the reference verifier's rules (docs/format.md#verification) plus ours (finite positive scales,
// no NaN codes, .comfy_quant agreeing with the metadata, no undeclared FP8 weight, no stray
// companion, metadata names matching tensor names), files declared only by `.comfy_quant` tensors,
// and the legacy `scaled_fp8` layout.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "safetensors/reader.hpp"
#include "verify/findings.hpp"

namespace qfp8::verify {

/// The tensor every legacy-layout file carries (docs/format.md#legacy). Full checkpoints carry it
/// with their key prefix (`model.diffusion_model.scaled_fp8`): ComfyUI looks it up as
/// `{prefix}scaled_fp8`.
inline constexpr const char* kLegacyMarker = "scaled_fp8";

/// The legacy marker, bare or prefixed (`<prefix>.scaled_fp8`); nullptr when absent.
const TensorInfo* find_legacy_marker(const SafetensorsFile& file);

/// What the format check learned about the file's layers, for the check against a source.
struct LayerInventory {
  bool legacy = false;
  std::string scale_suffix;             // ".weight_scale", or ".scale_weight" (legacy)
  std::size_t layer_count = 0;          // declared (or, legacy, scaled FP8) layers
  std::vector<std::string> usable;      // layers with a valid FP8 weight and scale, sorted
  std::set<std::string> layer_tensors;  // output tensors that belong to a layer or marker
};

/// Runs every format rule; findings go to `findings`. Dispatches on the legacy marker.
LayerInventory check_format(const SafetensorsFile& file, unsigned threads, FindingList& findings);

/// The legacy `scaled_fp8` layout's rules (format_checker dispatches here).
LayerInventory check_legacy_format(const SafetensorsFile& file, unsigned threads,
                                   FindingList& findings);

}  // namespace qfp8::verify
