// block_quantize_kernel.cuh — the launcher of the block formats' quantizer (mxfp8, nvfp4;
// docs/format.md#numerics-mxfp8, #numerics-nvfp4) on the device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.hpp"
#include "core/quant_format.hpp"

namespace qfp8 {

/// Quantizes a [rows, cols] weight at device address `source` (aligned to its element size;
/// cols and rows multiples of the block size) in `format`: data bytes into `data` (rows *
/// cols bytes, half that for nvfp4) and each block's scale code into its place in the
/// blocked `scales` (padded width `padded_scale_cols`; the padding is left as it is, so the
/// caller zeroes it). `tensor_scale` is nvfp4's weight_scale_2 on the device (unused, may be
/// null, for mxfp8). Asynchronous on `stream`.
void launch_quantize_blocks(QuantFormat format, Dtype dtype, const void* source, uint64_t rows,
                            uint64_t cols, const float* tensor_scale, uint8_t* data,
                            uint8_t* scales, uint64_t padded_scale_cols, cudaStream_t stream);

}  // namespace qfp8
