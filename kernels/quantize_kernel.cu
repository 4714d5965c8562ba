// quantize_kernel.cu — the per-tensor scale (docs/format.md#numerics-scale, #numerics-e5m2,
// #numerics-nvfp4) and the per-tensor casts (#numerics-cast, #numerics-e5m2) on the device:
// the scale from the absmax, and the FP8 E4M3FN or E5M2 cast of every element divided by it.
// E4M3FN: each element's quotient from e4m3fn_cast_operand() (core/fp8_e4m3fn.hpp) for BF16
// and F16 sources — a multiply by the scale's reciprocal where it provably casts like the
// IEEE division, the division elsewhere (docs/numerics.md#reciprocal) — and a true division
// for F32 sources (not provable exhaustively); the cast of two elements at once by
// e4m3fn_pair_from_f32() (kernels/e4m3fn_pair_cast.cuh: the hardware cvt on sm_89+, the shared
// software cast below). E5M2: quantize_e5m2() from core/, the very function the CPU runs.
//
// Kernels:   scale_kernel<E> (one thread; any format's tensor scale, core/tensor_scale.hpp)
//            and quantize_kernel<E, kE5m2>, a grid-stride loop over groups of 8 elements
//            (16-byte loads, one 8-byte store), over the element traits E
//            (core/element_traits.hpp).
// Launchers: launch_scale_from_amax() and launch_quantize() (quantize_kernel.cuh).
// Traffic:   quantize: BF16/F16: 2 bytes read and 1 written per element; F32: 4 read, 1
//            written. scale: 4 bytes read, 4 written per tensor.
// CPU twins: quantize_per_tensor_reference() and tensor_scale_reference()
//            (core/quantize_reference.hpp), which the CPU backend's cast_direct() and
//            cast_with_table() (backends/cpu/cpu_cast.hpp) also equal.
#include "kernels/quantize_kernel.cuh"

#include <string>

#include "core/element_traits.hpp"
#include "core/fp8_e5m2.hpp"
#include "core/tensor_scale.hpp"
#include "core/error.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/e4m3fn_pair_cast.cuh"
#include "kernels/launch_config.cuh"

namespace qfp8 {
namespace {

/// Elements per vector step: one 8-byte store of FP8 codes.
constexpr uint64_t kGroup = 8;

template <class E>
__global__ void scale_kernel(QuantFormat format, const uint32_t* amax_magnitude, float* scale) {
  *scale = tensor_scale_of<E>(format, *amax_magnitude);
}

/// A float whose E4M3FN cast is that of weight / scale (reciprocal from
/// e4m3fn_reciprocal_of_scale): the guarded product for 16-bit sources, whose every weight
/// and amax tests/core/test_reciprocal_cast.cpp covers; the quotient for F32 ones.
template <class E>
__device__ __forceinline__ float e4m3fn_operand(float weight, float scale, float reciprocal) {
  if constexpr (sizeof(typename E::Bits) == 2) {
    return e4m3fn_cast_operand(weight, scale, reciprocal);
  } else {
    return weight / scale;
  }
}

/// The codes of two elements, the first in the low byte.
template <class E, bool kE5m2>
__device__ __forceinline__ uint32_t cast_pair(float first, float second, float scale,
                                              float reciprocal) {
  if constexpr (kE5m2) {
    return quantize_e5m2(first, scale) | (uint32_t{quantize_e5m2(second, scale)} << 8);
  } else {
    return e4m3fn_pair_from_f32(e4m3fn_operand<E>(first, scale, reciprocal),
                                e4m3fn_operand<E>(second, scale, reciprocal));
  }
}

/// Element j (< 8) of a group held as little-endian 32-bit words.
template <class E>
__device__ __forceinline__ typename E::Bits group_element(const uint32_t* words, unsigned j) {
  if constexpr (sizeof(typename E::Bits) == 2) {
    return static_cast<uint16_t>((words[j / 2] >> (16 * (j % 2))) & 0xFFFFu);
  } else {
    return words[j];
  }
}

/// Elements [head, head + groups * 8) go 8 at a time (source 16-byte aligned and out
/// 8-byte aligned there); the head and tail one at a time.
template <class E, bool kE5m2>
__global__ void __launch_bounds__(kThreadsPerBlock)
    quantize_kernel(const typename E::Bits* source, uint64_t numel, uint64_t head, uint64_t groups,
                    const float* scale_in, uint8_t* out) {
  using Bits = typename E::Bits;
  constexpr unsigned kVectorsPerGroup = static_cast<unsigned>(kGroup * sizeof(Bits) / 16);
  const float scale = *scale_in;
  const float reciprocal = e4m3fn_reciprocal_of_scale(scale);
  const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
  const uint64_t thread = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const uint4* body = reinterpret_cast<const uint4*>(source + head);
  uint2* body_out = reinterpret_cast<uint2*>(out + head);
  for (uint64_t g = thread; g < groups; g += stride) {
    uint32_t words[kVectorsPerGroup * 4];
    for (unsigned v = 0; v < kVectorsPerGroup; ++v) {
      const uint4 loaded = body[g * kVectorsPerGroup + v];
      words[4 * v] = loaded.x;
      words[4 * v + 1] = loaded.y;
      words[4 * v + 2] = loaded.z;
      words[4 * v + 3] = loaded.w;
    }
    uint32_t packed[2] = {0u, 0u};
    for (unsigned j = 0; j < kGroup; j += 2) {
      const uint32_t codes = cast_pair<E, kE5m2>(E::widen(group_element<E>(words, j)),
                                                 E::widen(group_element<E>(words, j + 1)),
                                                 scale, reciprocal);
      packed[j / 4] |= codes << (8 * (j % 4));
    }
    body_out[g] = make_uint2(packed[0], packed[1]);
  }
  const uint64_t tail_begin = head + groups * kGroup;
  const uint64_t scalars = head + (numel - tail_begin);
  for (uint64_t s = thread; s < scalars; s += stride) {
    const uint64_t index = s < head ? s : tail_begin + (s - head);
    out[index] = static_cast<uint8_t>(
        cast_pair<E, kE5m2>(E::widen(source[index]), 0.0f, scale, reciprocal) & 0xFFu);
  }
}

}  // namespace

void launch_scale_from_amax(QuantFormat format, Dtype dtype, const uint32_t* amax_magnitude,
                            float* scale, cudaStream_t stream) {
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    scale_kernel<E><<<1, 1, 0, stream>>>(format, amax_magnitude, scale);
    QFP8_CUDA_CHECK_LAUNCH("scale_kernel");
  });
}

void launch_scale_from_amax(Dtype dtype, const uint32_t* amax_magnitude, float* scale,
                            cudaStream_t stream) {
  launch_scale_from_amax(QuantFormat::Float8E4m3fn, dtype, amax_magnitude, scale, stream);
}

void launch_quantize(Dtype dtype, const void* source, uint64_t numel, const float* scale,
                     uint8_t* out, cudaStream_t stream) {
  launch_quantize(QuantFormat::Float8E4m3fn, dtype, source, numel, scale, out, stream);
}

void launch_quantize(QuantFormat format, Dtype dtype, const void* source, uint64_t numel,
                     const float* scale, uint8_t* out, cudaStream_t stream) {
  if (format != QuantFormat::Float8E4m3fn && format != QuantFormat::Float8E5m2) {
    throw Error(ErrorCode::Internal, std::string("cannot launch the per-tensor cast for ") +
                                         quant_format_name(format) + ": a block format");
  }
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    using Bits = typename E::Bits;
    if (numel == 0) return;
    uint64_t head = elements_before_alignment(source, sizeof(Bits), numel, "quantize");
    // The vector body needs the output aligned at the same element; else all scalar.
    if (reinterpret_cast<uintptr_t>(out + head) % 8 != 0) head = numel;
    const uint64_t groups = (numel - head) / kGroup;
    const uint64_t scalars = numel - groups * kGroup;
    const uint64_t work = groups > scalars ? groups : scalars;
    if (format == QuantFormat::Float8E5m2) {
      quantize_kernel<E, true><<<blocks_for(work), kThreadsPerBlock, 0, stream>>>(
          static_cast<const Bits*>(source), numel, head, groups, scale, out);
    } else {
      quantize_kernel<E, false><<<blocks_for(work), kThreadsPerBlock, 0, stream>>>(
          static_cast<const Bits*>(source), numel, head, groups, scale, out);
    }
    QFP8_CUDA_CHECK_LAUNCH("quantize_kernel");
  });
}

}  // namespace qfp8
