// kernel_harness.hpp — host-only, synchronous wrappers that run one kernel on host data,
// for the GPU tests and the selftest (plain C++: includable from .cpp files). Each call
// sets the device, copies in, runs, copies back and checks every CUDA call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.hpp"

namespace qfp8 {

/// The absmax kernel on a device copy of `source` (numel elements) placed `device_offset`
/// bytes into a device buffer (a multiple of the element size), to exercise every
/// 16-byte misalignment. Returns the magnitude bits.
uint32_t cuda_absmax_magnitude(int device, Dtype dtype, const uint8_t* source, uint64_t numel,
                               std::size_t device_offset);

/// The quantize kernel once per scale in `scales` (each placed in device memory as the
/// pipeline does): result[s * numel + i] is element i cast with scales[s]. The source sits
/// `source_offset` bytes and the output `out_offset` bytes into their device buffers.
/// VerificationFailed if the kernel wrote any byte before or just after its output.
std::vector<uint8_t> cuda_quantize_with_scales(int device, Dtype dtype, const uint8_t* source,
                                               uint64_t numel, const std::vector<float>& scales,
                                               std::size_t source_offset, std::size_t out_offset);

/// The scale kernel for each amax magnitude: result[k] = the scale the device derives.
std::vector<float> cuda_scales_from_magnitudes(int device, Dtype dtype,
                                               const std::vector<uint32_t>& magnitudes);

}  // namespace qfp8
