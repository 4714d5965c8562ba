// backend_select.hpp — turns --device cpu|cuda|auto (and --gpu N, --threads N) into a
// backend, saying which one was chosen and why.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.hpp"

namespace qfp8 {

enum class DeviceChoice { Auto, Cpu, Cuda };

/// Throws Error(Usage) for anything but "auto", "cpu", "cuda".
DeviceChoice device_choice_from_name(const std::string& name);

struct BackendRequest {
  DeviceChoice device = DeviceChoice::Auto;
  int gpu = 0;           // --gpu N
  unsigned threads = 0;  // --threads N: CPU workers (0 = all cores) or CUDA staging readers
                         // (0 = automatic, see resolved_cuda_options())
  // The formats the conversion may write: a backend that cannot write one of them is not
  // chosen by auto, and is an error when asked for.
  std::vector<QuantFormat> formats{QuantFormat::Float8E4m3fn};
  // What the plan knows of the model (0: unknown): its bytes, for auto's choice
  // (auto_device.hpp), and its largest tensor's, to size the CUDA staging.
  uint64_t model_bytes = 0;
  uint64_t largest_tensor_bytes = 0;
};

/// Auto: CUDA when built with it, a device is usable, it writes every requested format and
/// choose_auto_device() prefers it for these CPU threads and this model size, else the CPU
/// (logged either way, with the reason). Cuda without a usable device, or in a CPU-only build:
/// Error(CudaUnavailable), exit 3; Cuda for a format it does not write: Error(Usage).
std::unique_ptr<QuantizeBackend> select_backend(const BackendRequest& request);

}  // namespace qfp8
