// legacy_layout.hpp — the older ComfyUI FP8 layout (docs/format.md#legacy): a `scaled_fp8` marker
// tensor (F8_E4M3, shape [0], or [2] meaning full-precision matrix mult), per layer
// `L.scale_weight` (F32 0-d) and optionally `L.scale_input`; no `_quantization_metadata` and no
// `.comfy_quant`. The two layouts are never mixed in one file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qfp8 {

// Bare, or `model.diffusion_model.scaled_fp8` when the layers carry that prefix.
inline constexpr const char* kScaledFp8Marker = "scaled_fp8";
inline constexpr const char* kScaleWeightSuffix = ".scale_weight";
inline constexpr const char* kScaleInputSuffix = ".scale_input";

/// [0], or [2] with full-precision matrix mult: older ComfyUI reads the option from the
/// marker's element count.
std::vector<uint64_t> legacy_marker_shape(bool full_precision_mm);

/// The marker's bytes: zeros (only its shape carries meaning).
std::string legacy_marker_bytes(bool full_precision_mm);

/// True for `scaled_fp8` itself and for a prefixed marker (`model.diffusion_model.scaled_fp8`).
bool is_legacy_marker_name(const std::string& name);

}  // namespace qfp8
