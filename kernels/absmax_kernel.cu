// absmax_kernel.cu — the absmax (docs/format.md#numerics-absmax) on the device: the integer
// max of the elements' magnitude bits (sign cleared), which orders exactly like |value|.
// The max is order-independent, so any grid, block count or GPU gives the CPU's result.
//
// Kernel:   absmax_kernel<E> over the element traits E (core/element_traits.hpp), a grid-
//           stride loop of 16-byte loads, a block max by warp shuffles, one atomicMax per
//           block.
// Launcher: launch_absmax_magnitude() (absmax_kernel.cuh).
// Traffic:  BF16/F16: 2 bytes read per element, 0 written; F32: 4 read, 0 written (plus
//           one 4-byte atomic per block). Memory-bound, hence the 16-byte loads.
// CPU twin: absmax_magnitude_reference() (core/quantize_reference.hpp), which the CPU
//           backend's absmax_magnitude_fast() (backends/cpu/cpu_cast.hpp) also equals.
#include "kernels/absmax_kernel.cuh"

#include "core/element_traits.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/launch_config.cuh"

namespace qfp8 {
namespace {

__device__ __forceinline__ uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

/// Largest magnitude among the elements packed in one little-endian 32-bit word.
template <class E>
__device__ __forceinline__ uint32_t word_magnitude(uint32_t word) {
  if constexpr (sizeof(typename E::Bits) == 2) {
    return max_u32(E::magnitude(static_cast<uint16_t>(word & 0xFFFFu)),
                   E::magnitude(static_cast<uint16_t>(word >> 16)));
  } else {
    return E::magnitude(word);
  }
}

/// Max over the block; the result is valid in thread 0. Every thread must call it.
__device__ uint32_t block_max(uint32_t value) {
  __shared__ uint32_t warp_max[kThreadsPerBlock / 32];
  // Shuffles rather than __reduce_max_sync, which needs sm_80 (we also build sm_75).
  for (int offset = 16; offset > 0; offset /= 2) {
    value = max_u32(value, __shfl_xor_sync(0xFFFFFFFFu, value, offset));
  }
  const unsigned lane = threadIdx.x % 32;
  const unsigned warp = threadIdx.x / 32;
  if (lane == 0) warp_max[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = lane < kThreadsPerBlock / 32 ? warp_max[lane] : 0u;
    for (int offset = 16; offset > 0; offset /= 2) {
      value = max_u32(value, __shfl_xor_sync(0xFFFFFFFFu, value, offset));
    }
  }
  return value;
}

/// Elements [head, head + vectors * per_vector) are read as uint4 (16-byte aligned there);
/// the head before and the tail after are read one element at a time.
template <class E>
__global__ void __launch_bounds__(kThreadsPerBlock)
    absmax_kernel(const typename E::Bits* source, uint64_t numel, uint64_t head, uint64_t vectors,
                  uint32_t* amax) {
  constexpr uint64_t kPerVector = 16 / sizeof(typename E::Bits);
  const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
  const uint64_t thread = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  uint32_t local = 0;
  const uint4* body = reinterpret_cast<const uint4*>(source + head);
  for (uint64_t v = thread; v < vectors; v += stride) {
    const uint4 words = body[v];
    local =
        max_u32(local, max_u32(max_u32(word_magnitude<E>(words.x), word_magnitude<E>(words.y)),
                               max_u32(word_magnitude<E>(words.z), word_magnitude<E>(words.w))));
  }
  const uint64_t tail_begin = head + vectors * kPerVector;
  const uint64_t scalars = head + (numel - tail_begin);
  for (uint64_t s = thread; s < scalars; s += stride) {
    const uint64_t index = s < head ? s : tail_begin + (s - head);
    local = max_u32(local, E::magnitude(source[index]));
  }
  local = block_max(local);
  // One atomic per block; skipping zeros saves most of them on sparse tensors.
  if (threadIdx.x == 0 && local != 0) atomicMax(amax, local);
}

}  // namespace

void launch_absmax_magnitude(Dtype dtype, const void* source, uint64_t numel, uint32_t* amax,
                             cudaStream_t stream) {
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    using Bits = typename E::Bits;
    if (numel == 0) return;
    constexpr uint64_t kPerVector = 16 / sizeof(Bits);
    const uint64_t head = elements_before_alignment(source, sizeof(Bits), numel, "absmax");
    const uint64_t vectors = (numel - head) / kPerVector;
    const uint64_t scalars = numel - vectors * kPerVector;
    const uint64_t work = vectors > scalars ? vectors : scalars;
    absmax_kernel<E><<<blocks_for(work), kThreadsPerBlock, 0, stream>>>(
        static_cast<const Bits*>(source), numel, head, vectors, amax);
    QFP8_CUDA_CHECK_LAUNCH("absmax_kernel");
  });
}

}  // namespace qfp8
