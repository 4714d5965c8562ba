// quantize_kernel.cuh — launchers for the scale derivation and the FP8 cast
// (docs/format.md#numerics-scale, #numerics-cast) on the device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.hpp"
#include "core/quant_format.hpp"

namespace qfp8 {

/// What the host needs back per tensor, copied in one 8-byte transfer.
struct TensorStats {
  uint32_t amax_magnitude;  // filled by launch_absmax_magnitude
  float scale;              // filled by launch_scale_from_amax
};

/// *scale = the format's per-tensor scale of *amax_magnitude for the dtype
/// (core/tensor_scale.hpp; 0 for mxfp8): one thread, so the scale the casts divide by is
/// computed on the device exactly as on the host.
void launch_scale_from_amax(QuantFormat format, Dtype dtype, const uint32_t* amax_magnitude,
                            float* scale, cudaStream_t stream);
/// The same for float8_e4m3fn.
void launch_scale_from_amax(Dtype dtype, const uint32_t* amax_magnitude, float* scale,
                            cudaStream_t stream);

/// out[i] = quantize_e4m3fn(element i, *scale) for the `numel` elements at device address
/// `source` (aligned to the element size). `out` may have any alignment; 8-byte stores are
/// used where both pointers allow. Asynchronous on `stream`.
void launch_quantize(Dtype dtype, const void* source, uint64_t numel, const float* scale,
                     uint8_t* out, cudaStream_t stream);
/// The same in a per-tensor `format` (float8_e4m3fn or float8_e5m2).
void launch_quantize(QuantFormat format, Dtype dtype, const void* source, uint64_t numel,
                     const float* scale, uint8_t* out, cudaStream_t stream);

}  // namespace qfp8
