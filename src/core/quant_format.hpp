// quant_format.hpp — the quantized formats a layer can be written in (docs/format.md#formats),
// by ComfyUI's names, and what each implies for the tensors of a layer: the data's dtype and
// shape, the block size, the block scales' dtype and padded shape, and whether a per-tensor
// F32 scale goes with it. The numerics of each are in fp8_e4m3fn.hpp, fp8_e5m2.hpp and
// block_formats.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.hpp"

namespace qfp8 {

enum class QuantFormat : uint8_t {
  Float8E4m3fn,  // per-tensor F32 scale, E4M3FN data (the default)
  Float8E5m2,    // per-tensor F32 scale, E5M2 data
  Mxfp8,         // E4M3FN data, an E8M0 scale per 32 elements of a row
  Nvfp4,         // E2M1 data two per byte, an E4M3FN scale per 16 elements, an F32 scale
};

/// ComfyUI's name: "float8_e4m3fn", "float8_e5m2", "mxfp8", "nvfp4".
const char* quant_format_name(QuantFormat format) noexcept;
/// The format of a ComfyUI name; nullopt for any other text.
std::optional<QuantFormat> quant_format_from_name(std::string_view name) noexcept;
/// "float8_e4m3fn, float8_e5m2, mxfp8, nvfp4", for messages.
std::string quant_format_list();

/// Elements per block along a row; 0 for the per-tensor formats.
uint32_t block_size(QuantFormat format) noexcept;
/// True for the formats whose layer carries `L.weight_scale` as block scales.
inline bool has_block_scales(QuantFormat format) noexcept { return block_size(format) != 0; }
/// True when the layer carries a per-tensor F32 scale: `L.weight_scale` for the FP8
/// formats, `L.weight_scale_2` for nvfp4; mxfp8 has none.
bool has_tensor_scale(QuantFormat format) noexcept;
/// The dtype of `L.weight`: F8_E4M3, F8_E5M2, F8_E4M3, U8 (nvfp4's packed pairs).
Dtype data_dtype(QuantFormat format) noexcept;
/// The dtype of the block scales: F8_E8M0 (mxfp8), F8_E4M3 (nvfp4).
Dtype block_scale_dtype(QuantFormat format) noexcept;

/// Shape of `L.weight` for a [rows, cols] weight: the same, or [rows, cols / 2] for nvfp4.
std::vector<uint64_t> data_shape(QuantFormat format, uint64_t rows, uint64_t cols);
/// Shape of the block scales of a [rows, cols] weight: [rows padded to 128, blocks per row
/// padded to 4] (core/block_formats.hpp).
std::vector<uint64_t> block_scale_shape(QuantFormat format, uint64_t rows, uint64_t cols);

/// Why a [rows, cols] weight cannot be written in `format` without the padding ComfyUI's
/// layouts add ("1000 columns are not a multiple of nvfp4's 16-element blocks"), or "" when
/// it can. Both dimensions must be multiples of the block size: comfy-kitchen pads rows too.
std::string shape_problem(QuantFormat format, uint64_t rows, uint64_t cols);

}  // namespace qfp8
