// device_checks.cpp — the order of the device parts of the selftest on one GPU.
#include "selftest/cuda/device_checks.hpp"

#include <cstdio>
#include <string>

#include "backends/cuda/cuda_backend.hpp"
#include "core/error.hpp"

namespace qfp8::selftest {

void run_cuda_checks(Tally& tally, int gpu, bool quick) {
  if (cuda_usable_device_count() <= gpu || gpu < 0) {
    throw Error(ErrorCode::CudaUnavailable,
                "cannot run the selftest on cuda:" + std::to_string(gpu) +
                    ": no usable CUDA device (use --device cpu for the CPU checks)");
  }
  std::printf("selftest on cuda:%d %s\n", gpu, cuda_device_description(gpu).c_str());
  if (quick) {
    std::printf("[SKIP] device cast: the 2^32 sweep is skipped with --quick\n");
  } else {
    for (const auto& check : run_cuda_cast_sweep(gpu)) tally.print(check);
  }
  for (const auto& check : run_cuda_kernel_sweep(gpu)) tally.print(check);
  // A small staging buffer puts every synthetic "big" tensor through the chunked paths.
  constexpr uint64_t kSmallStaging = 256 * 1024;
  auto chunked = make_cuda_backend(gpu, CudaBackendOptions{kSmallStaging, 3});
  run_backend_checks(tally, *chunked, " (256 KiB staging)", kSmallStaging);
  auto standard = make_cuda_backend(gpu);
  run_backend_checks(tally, *standard, " (default staging)", kSmallStaging);
}

}  // namespace qfp8::selftest
