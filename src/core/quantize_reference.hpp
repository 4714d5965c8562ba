// quantize_reference.hpp — the plain scalar twins (docs/format.md#numerics): the definition every
// other path (threaded CPU backend, CUDA kernels, verify --against) is tested against byte for
// byte. Single-threaded, obvious, no tables.
#pragma once

#include <cstdint>

#include <vector>

#include "core/dtype.hpp"
#include "core/quant_format.hpp"

namespace qfp8 {

/// Integer max of the elements' magnitude bits (sign cleared) for F16/BF16/F32 `source`
/// (little-endian, any alignment). 0 for an empty tensor.
uint32_t absmax_magnitude_reference(Dtype dtype, const uint8_t* source, uint64_t numel);

/// True when the magnitude marks an Inf or NaN for this dtype.
bool magnitude_is_nonfinite(Dtype dtype, uint32_t magnitude);

/// amax as float32 from the magnitude bits (exact widening).
float amax_from_magnitude(Dtype dtype, uint32_t magnitude);

/// Element `index` of a little-endian F16/BF16/F32 `source` (any alignment) widened to
/// float32 (exact). Loops should rather visit_element_type() once (core/element_traits.hpp).
float load_as_f32(Dtype dtype, const uint8_t* source, uint64_t index);

/// out[i] = quantize_e4m3fn(element i, scale) for i < numel.
void quantize_reference(Dtype dtype, const uint8_t* source, uint64_t numel, float scale,
                        uint8_t* out);

// --- every format (docs/format.md#formats) ---------------------------------------------

/// The per-tensor scale of a tensor whose amax magnitude is `amax_magnitude`: weight_scale
/// of float8_e4m3fn / float8_e5m2, weight_scale_2 of nvfp4, 0 for mxfp8 (none).
float tensor_scale_reference(QuantFormat format, Dtype dtype, uint32_t amax_magnitude);

/// out[i] = the per-tensor format's code of element i (float8_e4m3fn or float8_e5m2).
void quantize_per_tensor_reference(QuantFormat format, Dtype dtype, const uint8_t* source,
                                   uint64_t numel, float scale, uint8_t* out);

/// A block format's result for a [rows, cols] weight: the data bytes in row order and the
/// blocked scale codes (zero padding included).
struct BlockQuantized {
  std::vector<uint8_t> data;
  std::vector<uint8_t> scales;
};

/// Quantizes a [rows, cols] weight in mxfp8 or nvfp4 (cols and rows multiples of the block
/// size), one block at a time; `tensor_scale` is nvfp4's weight_scale_2 (ignored by mxfp8).
BlockQuantized quantize_blocks_reference(QuantFormat format, Dtype dtype, const uint8_t* source,
                                         uint64_t rows, uint64_t cols, float tensor_scale);

/// Quantizes rows [first_row, first_row + row_count) of a [rows, cols] weight: data into
/// `data` (row_count * cols bytes, or half that for nvfp4) and each block's code into its
/// place in the blocked `scales` of the whole weight. The one loop the reference and the
/// CPU backend's tasks share.
void quantize_block_rows(QuantFormat format, Dtype dtype, const uint8_t* source, uint64_t cols,
                         uint64_t first_row, uint64_t row_count, float tensor_scale,
                         uint8_t* data, uint8_t* scales, uint64_t padded_scale_cols);

}  // namespace qfp8
