// tensor_checks.hpp — checks of single tensors shared by the modern and legacy layout
// checkers: scale tensors (F32, one element, finite, > 0), FP8 weights (F8_E4M3, 2-D) and
// the NaN-code scan, plus small name and formatting helpers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/text_format.hpp"  // shape_text, used by the checks
#include "fp8_layout/fp8_layout.hpp"
#include "safetensors/reader.hpp"
#include "verify/findings.hpp"

namespace qfp8::verify {

using fp8_layout::read_f32_scalar;

/// "0x3c000000 (0.0078125)".
std::string float_text(float value);

/// Which rule family a scale belongs to: the Scale* or the InputScale* finding ids.
enum class ScaleKind { Weight, Input };

/// F32, one element (0-d recommended: [1] is a WARN), finite and > 0. True when the value
/// is usable (F32 with one element, finite, positive).
bool check_scale(const SafetensorsFile& file, const TensorInfo& scale, ScaleKind kind,
                 const std::string& layer, FindingList& findings);

/// F8_E4M3 and 2-D. True when both hold.
bool check_fp8_weight(const TensorInfo& weight, const std::string& layer, FindingList& findings);

/// Scans every byte of every F8_E4M3 tensor except `skip_name` for the NaN codes 0x7F /
/// 0xFF (NanCode, with count and first index), releasing each tensor's pages afterwards.
void check_nan_codes(const SafetensorsFile& file, const std::string& skip_name, unsigned threads,
                     FindingList& findings);

}  // namespace qfp8::verify
