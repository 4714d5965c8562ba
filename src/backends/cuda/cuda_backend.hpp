// cuda_backend.hpp — host-side entry points of the CUDA backend. Only compiled and
// called when QFP8_HAVE_CUDA is defined; plain C++ (no CUDA types) so src/ can include it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backends/backend.hpp"
#include "core/quant_format.hpp"

namespace qfp8 {

/// Number of usable CUDA devices; 0 when there is no driver or no device (never throws).
int cuda_usable_device_count() noexcept;

/// True for the formats the CUDA backend writes (QuantizeBackend::supports() of its
/// backends), asked before a device is opened.
bool cuda_backend_supports(QuantFormat format) noexcept;

/// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)"; throws CudaFailure for a bad index.
std::string cuda_device_description(int device);

/// Staging ring of the CUDA pipeline: `slots` pinned host buffers of `staging_bytes` for
/// uploads and as many for downloads; tensors larger than one buffer go in chunks, which
/// `reader_threads` threads copy out of the input into the upload slots.
struct CudaBackendOptions {
  uint64_t staging_bytes = uint64_t{32} << 20;  // rounded down to a multiple of 16, min 16
  unsigned slots = 2;           // 2..8, and at least reader_threads + 1 (one is uploading)
  unsigned reader_threads = 0;  // 1..7; 0: half the usable CPUs, 1 to 3
  // The largest source tensor of the model to convert, when known: the pinned rings are
  // made at that size (at most staging_bytes) when the backend starts, so a small model
  // pins little. 0: unknown, full staging_bytes. A run with larger tensors grows them.
  uint64_t largest_tensor_bytes = 0;
};

/// `options` as the backend uses them: the limits above applied, 0 reader threads resolved
/// for a process that may use `hardware_threads` CPUs (default_thread_count(): affinity
/// mask and cgroup quota).
CudaBackendOptions resolved_cuda_options(CudaBackendOptions options, unsigned hardware_threads);

/// Backend on device `device`. Throws CudaUnavailable / CudaFailure.
std::unique_ptr<QuantizeBackend> make_cuda_backend(int device);
std::unique_ptr<QuantizeBackend> make_cuda_backend(int device, const CudaBackendOptions& options);

}  // namespace qfp8
