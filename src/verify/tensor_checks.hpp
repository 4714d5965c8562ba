// tensor_checks.hpp — checks of single tensors shared by the modern and legacy layout
// checkers: per-tensor scale tensors (F32, one element, finite, > 0), a layer's weight (its
// format's dtype, 2-D, whole blocks), the blocked scales of mxfp8 and nvfp4 (dtype, exact
// shape, sign, zero padding), plus small formatting helpers.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/quant_format.hpp"
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

/// The dtype of `format` (data_dtype: F8_E4M3, F8_E5M2, or U8 for nvfp4), 2-D, and for the
/// block formats rows and columns multiples of the block size (shape_problem). True when
/// all hold.
bool check_weight(const TensorInfo& weight, QuantFormat format, const std::string& layer,
                  FindingList& findings);

/// The block scales `scales` of a [rows, cols] weight (`matrix`; null when the weight itself
/// failed, so that only the dtype can be checked) in `format` (mxfp8 or nvfp4): dtype,
/// the exact padded shape, and, reading the codes, no sign bit (nvfp4) and zero codes in the
/// padding. True when the tensor can be read as the weight's block scales (dtype and shape);
/// a bad code is reported but does not make the layer unreadable.
bool check_block_scales(const SafetensorsFile& file, const TensorInfo& scales, QuantFormat format,
                        const std::array<uint64_t, 2>* matrix, const std::string& layer,
                        FindingList& findings);

}  // namespace qfp8::verify
