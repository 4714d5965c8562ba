// cuda_check.hpp — QFP8_CUDA_CHECK: every CUDA runtime call goes through it, so a failure
// throws Error(CudaFailure) naming the statement, file:line, device and CUDA's reason,
// and the caller can report it or fall back instead of carrying on with bad results. Every
// kernel launch is checked the same way (QFP8_CUDA_CHECK_LAUNCH: cudaGetLastError()).
#pragma once

#include <cuda_runtime.h>

namespace qfp8 {

/// Throws Error(CudaFailure) describing `status`; clears CUDA's last-error slot first.
[[noreturn]] void throw_cuda_failure(cudaError_t status, const char* statement, const char* file,
                                     int line);

inline void cuda_check(cudaError_t status, const char* statement, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_failure(status, statement, file, line);
}

}  // namespace qfp8

#define QFP8_CUDA_CHECK(expr) ::qfp8::cuda_check((expr), #expr, __FILE__, __LINE__)

/// After every kernel launch: launch-configuration errors only surface here.
#define QFP8_CUDA_CHECK_LAUNCH(kernel_name) \
  ::qfp8::cuda_check(cudaGetLastError(), "launch " kernel_name, __FILE__, __LINE__)
