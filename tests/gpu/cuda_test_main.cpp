// cuda_test_main.cpp — Catch2 main of the GPU tests. Exit 77 (CTest: "Skipped") when this
// machine has no GPU to test, or when a test could not run for want of device memory and
// none failed; a broken CUDA setup (driver too old, initialisation error) fails with the
// runtime's error name and text (tests/support/cuda_test_gate.hpp decides).
#include <cuda_runtime.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "support/catch_session.hpp"
#include "support/cuda_test_gate.hpp"

namespace {

/// "12.4" from cudaDriverGetVersion's 12040.
std::string cuda_version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

/// Run (0), skip (77) or fail (1) before any test, from what the runtime reports.
int gate_exit_code() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  int driver = 0;
  if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0;
  int runtime = 0;
  if (cudaRuntimeGetVersion(&runtime) != cudaSuccess) runtime = 0;
  (void)cudaGetLastError();
  switch (qfp8::test::device_gate(status, count, driver)) {
    case qfp8::test::DeviceGate::Run:
      return 0;
    case qfp8::test::DeviceGate::Skip:
      if (status == cudaErrorInsufficientDriver) {
        std::printf("no CUDA driver installed: GPU tests skipped\n");
      } else {
        std::printf("no CUDA device (%s): GPU tests skipped\n",
                    status == cudaSuccess ? "0 devices" : cudaGetErrorName(status));
      }
      return qfp8::test::kExitSkipped;
    case qfp8::test::DeviceGate::Fail:
      break;
  }
  std::fprintf(stderr,
               "cannot count CUDA devices: %s: %s (the driver supports CUDA %s, this build's "
               "runtime is CUDA %s)\n",
               cudaGetErrorName(status), cudaGetErrorString(status),
               cuda_version_text(driver).c_str(), cuda_version_text(runtime).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int gate = gate_exit_code();
  if (gate != 0) return gate;
  const int failed = qfp8::test::run_catch_session(argc, argv);
  const auto& skipped = qfp8::test::skipped_tests();
  for (const auto& reason : skipped) std::printf("skipped: %s\n", reason.c_str());
  if (failed == 0 && !skipped.empty()) {
    std::printf("%zu test(s) skipped, none failed: reported as skipped, not passed\n",
                skipped.size());
    return qfp8::test::kExitSkipped;
  }
  return failed;
}
