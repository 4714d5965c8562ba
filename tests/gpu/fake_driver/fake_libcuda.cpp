// fake_libcuda.cpp — a stand-in for the NVIDIA driver's libcuda.so.1, for testing when the
// GPU tests skip and when they fail (tests/support/cuda_test_gate.hpp) on any machine. With it
// first on LD_LIBRARY_PATH, the CUDA runtime sees a driver that supports CUDA
// $FAKE_CUDA_DRIVER (e.g. 11040 = 11.4: older than the runtime) and whose cuInit returns
// $FAKE_CUDA_INIT (100 = CUDA_ERROR_NO_DEVICE, 999 = CUDA_ERROR_UNKNOWN). The runtime finds
// nothing else it needs and reports the matching cudaError_t from cudaGetDeviceCount.
#include <cstdlib>

namespace {

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : fallback;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int cuDriverGetVersion(int* version) {
  *version = env_int("FAKE_CUDA_DRIVER", 11040);
  return 0;
}

__attribute__((visibility("default"))) int cuInit(unsigned flags) {
  (void)flags;
  return env_int("FAKE_CUDA_INIT", 0);
}

}  // extern "C"
