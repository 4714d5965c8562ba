// e4m3fn_pair_cast.cuh — the E4M3FN cast (docs/format.md#numerics-cast) of two floats at once
// on the device, as the quantize kernel and the selftest's cast sweep run it: the hardware
// cvt.rn.satfinite.e4m3x2.f32 where the architecture has it (sm_89+: one instruction for two
// elements, equal to e4m3fn_from_f32() for all 2^32 floats on an H200, and proven again on the
// user's card by `selftest --device cuda`), the shared software cast e4m3fn_from_f32()
// (core/fp8_e4m3fn.hpp) below sm_89, where cuda_fp8.h would emulate the instruction with code
// of its own.
#pragma once

#include <cuda_fp8.h>

#include <cstdint>

#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {

/// True in device code compiled for an architecture with the FP8 cvt instruction.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
#define QFP8_HARDWARE_E4M3_CVT 1
#else
#define QFP8_HARDWARE_E4M3_CVT 0
#endif

/// e4m3fn_from_f32(low) | e4m3fn_from_f32(high) << 8.
__device__ __forceinline__ uint32_t e4m3fn_pair_from_f32(float low, float high) {
#if QFP8_HARDWARE_E4M3_CVT
  // .x goes to the low byte.
  return __nv_cvt_float2_to_fp8x2(make_float2(low, high), __NV_SATFINITE, __NV_E4M3);
#else
  return e4m3fn_from_f32(low) | (uint32_t{e4m3fn_from_f32(high)} << 8);
#endif
}

}  // namespace qfp8
