// selftest.hpp — host-only interface of the device part of `qfp8-cuda selftest`: results
// as data, printed by src/cli/cmd_selftest.cpp (which also runs the backend comparison
// that needs no CUDA). Plain C++; the functions exist only in builds with QFP8_HAVE_CUDA.
#pragma once

#include <string>
#include <vector>

namespace qfp8 {

struct SelftestCheck {
  std::string name;  // "cast sweep", ...
  bool passed = true;
  bool informational = false;        // reported, never fails the selftest
  std::string summary;               // one line
  std::vector<std::string> details;  // first mismatches
};

/// (a) The shared cast compiled for the device vs the host, for all 2^32 float32 bit
/// patterns; and, informational, the hardware cvt (sm_89+) vs the shared cast.
std::vector<SelftestCheck> run_cuda_cast_sweep(int device);

/// (b) The device scale and quantize kernels vs the host reference: every BF16 and F16
/// value x hundreds of scales, F32 samples, misaligned buffers, every amax magnitude.
std::vector<SelftestCheck> run_cuda_kernel_sweep(int device);

}  // namespace qfp8
