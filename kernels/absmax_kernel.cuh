// absmax_kernel.cuh — launcher for the absmax reduction (docs/format.md#numerics-absmax) on the
// device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.hpp"

namespace qfp8 {

/// *amax = max(*amax, magnitude bits of every element) for the `numel` F16/BF16/F32
/// elements at device address `source` (aligned to the element size; any 16-byte
/// alignment). The caller zeroes *amax first; accumulating lets a tensor be reduced in
/// pieces. Asynchronous on `stream`; launch errors throw CudaFailure.
void launch_absmax_magnitude(Dtype dtype, const void* source, uint64_t numel, uint32_t* amax,
                             cudaStream_t stream);

}  // namespace qfp8
