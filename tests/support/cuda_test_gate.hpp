// cuda_test_gate.hpp — when the GPU tests run, skip or fail. CTest reads exit 77 as
// "Skipped", so 77 must mean exactly "this machine has no GPU to test": no device, or no
// driver at all (a build machine with only the toolkit). A driver that is installed but
// too old for the runtime, or any other error, is a broken setup: the tests fail with the
// error's name, never report skipped. A test that cannot run here for want of device memory
// calls skip_test(); the main then reports the run skipped rather than passed.
#pragma once

#include <cuda_runtime.h>

#include <string>
#include <vector>

namespace qfp8::test {

inline constexpr int kExitSkipped = 77;  // CTest's SKIP_RETURN_CODE for the GPU tests

enum class DeviceGate { Run, Skip, Fail };

/// The verdict on cudaGetDeviceCount's `status` and `device_count`, given the CUDA version
/// cudaDriverGetVersion reports (0 when no driver is installed).
inline DeviceGate device_gate(cudaError_t status, int device_count, int driver_version) {
  if (status == cudaSuccess) return device_count > 0 ? DeviceGate::Run : DeviceGate::Skip;
  if (status == cudaErrorNoDevice) return DeviceGate::Skip;
  // The runtime says "insufficient driver" both when there is no driver (version 0: no
  // GPU here) and when the driver is older than the runtime (the user must update it).
  if (status == cudaErrorInsufficientDriver && driver_version == 0) return DeviceGate::Skip;
  return DeviceGate::Fail;
}

/// Why each test that returned early did not run (one line each).
inline std::vector<std::string>& skipped_tests() {
  static std::vector<std::string> reasons;
  return reasons;
}

/// Records that the current test could not run here and why; the caller then returns.
inline void skip_test(const std::string& test, const std::string& why) {
  skipped_tests().push_back(test + ": " + why);
}

}  // namespace qfp8::test
