// cast_sweep_kernel.cuh — launcher of the selftest's cast sweep: the shared E4M3FN cast
// (core/fp8_e4m3fn.hpp) of a slice of all 2^32 float32 bit patterns on the device, and a
// tally of where the quantize kernel's pair cast (the hardware cvt on sm_89+) differs from
// it. CPU twin: e4m3fn_from_f32 itself, which src/selftest/cuda/cast_sweep.cpp runs on the
// host for every pattern.
#pragma once

#include <cstdint>

namespace qfp8 {

/// Mismatches the tally records in full (the rest are only counted).
inline constexpr unsigned kCastSweepRecorded = 8;

/// Filled by the kernel in device memory; the caller zeroes it once and copies it back.
struct HardwareTally {
  unsigned long long mismatches;
  unsigned recorded;
  int hardware_cvt;  // 1 when the kernel ran sm_89+ code, where the cvt is one instruction
  uint32_t bits[kCastSweepRecorded];
  uint32_t codes[kCastSweepRecorded];  // pair cast's code << 8 | shared code
};

/// codes[i] = e4m3fn_from_f32(float with bits first + i) for i < count, and, where the
/// quantize kernel's e4m3fn_pair_from_f32() (cvt.rn.satfinite.e4m3x2.f32 on sm_89+, the shared
/// cast below) gives a different code in either lane, a count in *tally. Synchronous errors
/// throw CudaFailure.
void launch_cast_slice(uint64_t first, uint64_t count, uint8_t* codes, HardwareTally* tally);

}  // namespace qfp8
