// element_traits.cuh — one small struct per source dtype (BF16, F16, F32) that maps the
// kernels' generic code onto the shared numerics of core/fp8_e4m3fn.hpp, plus the host-side
// switch from a runtime Dtype to the matching struct.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {

struct Bf16Element {
  using Bits = uint16_t;
  static __device__ __forceinline__ uint32_t magnitude(Bits bits) { return bf16_magnitude(bits); }
  static __device__ __forceinline__ float widen(Bits bits) { return bf16_to_f32(bits); }
  static __device__ __forceinline__ float amax(uint32_t m) { return amax_from_bf16_magnitude(m); }
};

struct F16Element {
  using Bits = uint16_t;
  static __device__ __forceinline__ uint32_t magnitude(Bits bits) { return f16_magnitude(bits); }
  static __device__ __forceinline__ float widen(Bits bits) { return f16_to_f32(bits); }
  static __device__ __forceinline__ float amax(uint32_t m) { return amax_from_f16_magnitude(m); }
};

struct F32Element {
  using Bits = uint32_t;
  static __device__ __forceinline__ uint32_t magnitude(Bits bits) { return f32_magnitude(bits); }
  static __device__ __forceinline__ float widen(Bits bits) { return float_from_bits(bits); }
  static __device__ __forceinline__ float amax(uint32_t m) { return amax_from_f32_magnitude(m); }
};

/// Calls visit(Bf16Element{}) etc. for the dtype; Internal for anything else.
template <class Visitor>
void visit_element_type(Dtype dtype, Visitor&& visit) {
  switch (dtype) {
    case Dtype::BF16: visit(Bf16Element{}); return;
    case Dtype::F16: visit(F16Element{}); return;
    case Dtype::F32: visit(F32Element{}); return;
    default:
      throw Error(ErrorCode::Internal, "cannot quantize a " + std::string(dtype_name(dtype)) +
                                              " tensor on the GPU: only F16, BF16 and F32");
  }
}

}  // namespace qfp8
