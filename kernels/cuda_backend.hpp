// cuda_backend.hpp — host-side entry points of the CUDA backend. Only compiled and
// called when QFP8_HAVE_CUDA is defined; plain C++ (no CUDA types) so src/ can include it.
#pragma once

#include <memory>
#include <string>

#include "convert/backend.hpp"

namespace qfp8 {

/// Number of usable CUDA devices; 0 when there is no driver or no device (never throws).
int cuda_usable_device_count() noexcept;

/// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)"; throws CudaFailure for a bad index.
std::string cuda_device_description(int device);

/// Backend on device `device`. Throws CudaUnavailable / CudaFailure.
std::unique_ptr<QuantizeBackend> make_cuda_backend(int device);

}  // namespace qfp8
