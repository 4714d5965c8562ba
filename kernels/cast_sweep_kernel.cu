// cast_sweep_kernel.cu — the selftest's cast sweep on the device: the shared E4M3FN cast
// e4m3fn_from_f32() (core/fp8_e4m3fn.hpp) of a slice of all 2^32 float32 bit patterns, and
// a tally of the patterns where the quantize kernel's pair cast e4m3fn_pair_from_f32()
// (kernels/e4m3fn_pair_cast.cuh: the hardware cvt on sm_89+) gives another code in either
// of its two lanes.
//
// Kernel:   cast_slice_kernel, a grid-stride loop over the patterns of the slice.
// Launcher: launch_cast_slice() (cast_sweep_kernel.cuh).
// Traffic:  0 bytes read per pattern (the input is the index itself), 1 written (the
//           code); the tally's atomics touch memory only on a mismatch.
// CPU twin: e4m3fn_from_f32() itself, which src/selftest/cuda/cast_sweep.cpp runs on the
//           host for every pattern and compares with the codes written here.
#include "kernels/cast_sweep_kernel.cuh"

#include "core/fp8_e4m3fn.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/e4m3fn_pair_cast.cuh"
#include "kernels/launch_config.cuh"

namespace qfp8 {
namespace {

__global__ void __launch_bounds__(kThreadsPerBlock)
    cast_slice_kernel(uint64_t first, uint64_t count, uint8_t* codes, HardwareTally* tally) {
  const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
  for (uint64_t i = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < count; i += stride) {
    const uint32_t bits = static_cast<uint32_t>(first + i);
    const float value = float_from_bits(bits);
    const uint8_t shared = e4m3fn_from_f32(value);
    codes[i] = shared;
    const uint32_t pair = e4m3fn_pair_from_f32(value, value);
    const auto low = static_cast<uint8_t>(pair & 0xFFu);
    const auto high = static_cast<uint8_t>(pair >> 8);
    if (low != shared || high != shared) {
      const uint8_t hardware = low != shared ? low : high;
      atomicAdd(&tally->mismatches, 1ull);
      const unsigned slot = atomicAdd(&tally->recorded, 1u);
      if (slot < kCastSweepRecorded) {
        tally->bits[slot] = bits;
        tally->codes[slot] = (uint32_t{hardware} << 8) | shared;
      }
    }
  }
#if QFP8_HARDWARE_E4M3_CVT
  if (blockIdx.x == 0 && threadIdx.x == 0) tally->hardware_cvt = 1;
#endif
}

}  // namespace

void launch_cast_slice(uint64_t first, uint64_t count, uint8_t* codes, HardwareTally* tally) {
  cast_slice_kernel<<<blocks_for(count), kThreadsPerBlock>>>(first, count, codes, tally);
  QFP8_CUDA_CHECK_LAUNCH("cast_slice_kernel");
}

}  // namespace qfp8
