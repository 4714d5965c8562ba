// device_checks.hpp — the selftest parts that need a CUDA device (built only with CUDA):
// the shared cast and the kernels on the device against the host, and the CudaBackend
// runs through backend_checks.hpp.
#pragma once

#include <vector>

#include "selftest/backend_checks.hpp"
#include "selftest/selftest_check.hpp"

namespace qfp8::selftest {

/// (a) The shared cast compiled for the device vs the host, for all 2^32 float32 bit
/// patterns; and the quantize kernel's pair cast (the hardware cvt on sm_89+) vs the shared
/// cast.
std::vector<SelftestCheck> run_cuda_cast_sweep(int device);

/// (b) The device scale and quantize kernels vs the host reference: every BF16 and F16
/// value x hundreds of scales, F32 samples, misaligned buffers, every amax magnitude.
std::vector<SelftestCheck> run_cuda_kernel_sweep(int device);

/// (a)-(d) on device `gpu`; (a) skipped with `quick`. CudaUnavailable when the device is
/// not usable.
void run_cuda_checks(Tally& tally, int gpu, bool quick);

}  // namespace qfp8::selftest
