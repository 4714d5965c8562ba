// device_info.cpp — how many CUDA devices are usable, and a one-line description of one.
// Counting must be safe on machines without a driver: it is how the CPU fallback and the
// GPU test skip decide, so it never throws and never prints.
#include <cstdio>
#include <string>

#include "backends/cuda/cuda_backend.hpp"
#include "kernels/cuda_check.hpp"

namespace qfp8 {

int cuda_usable_device_count() noexcept {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    // No driver, driver too old, or no device: all mean "use the CPU".
    (void)cudaGetLastError();
    return 0;
  }
  return count;
}

std::string cuda_device_description(int device) {
  cudaDeviceProp properties{};
  QFP8_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  char memory[32];
  std::snprintf(memory, sizeof memory, "%.1f GiB",
                static_cast<double>(properties.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return std::string(properties.name) + " (sm_" + std::to_string(properties.major) +
         std::to_string(properties.minor) + ", " + memory + ")";
}

}  // namespace qfp8
