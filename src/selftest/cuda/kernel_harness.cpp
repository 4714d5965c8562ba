// kernel_harness.cpp — synchronous one-kernel runs on host data (see kernel_harness.hpp).
#include "selftest/cuda/kernel_harness.hpp"

#include <cuda_runtime.h>

#include <string>

#include "backends/cuda/cuda_resources.hpp"
#include "core/error.hpp"
#include "kernels/absmax_kernel.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/quantize_kernel.cuh"

namespace qfp8 {
namespace {

DeviceBytes upload(const uint8_t* source, std::size_t bytes, std::size_t offset) {
  DeviceBytes buffer = allocate_device_bytes(offset + bytes);
  if (bytes > 0) {
    QFP8_CUDA_CHECK(cudaMemcpy(buffer.get() + offset, source, bytes, cudaMemcpyHostToDevice));
  }
  return buffer;
}

void require_element_aligned(Dtype dtype, std::size_t offset) {
  if (offset % dtype_size(dtype) != 0) {
    throw Error(ErrorCode::Usage, "cannot place the source at byte offset " +
                                      std::to_string(offset) +
                                      ": not a multiple of its element size");
  }
}

}  // namespace

uint32_t cuda_absmax_magnitude(int device, Dtype dtype, const uint8_t* source, uint64_t numel,
                               std::size_t device_offset) {
  require_element_aligned(dtype, device_offset);
  QFP8_CUDA_CHECK(cudaSetDevice(device));
  const DeviceBytes input = upload(source, numel * dtype_size(dtype), device_offset);
  const DeviceBytes amax = allocate_device_bytes(sizeof(uint32_t));
  QFP8_CUDA_CHECK(cudaMemset(amax.get(), 0, sizeof(uint32_t)));
  auto* amax_word = reinterpret_cast<uint32_t*>(amax.get());
  launch_absmax_magnitude(dtype, input.get() + device_offset, numel, amax_word, nullptr);
  QFP8_CUDA_CHECK(cudaDeviceSynchronize());
  uint32_t result = 0;
  QFP8_CUDA_CHECK(cudaMemcpy(&result, amax_word, sizeof result, cudaMemcpyDeviceToHost));
  return result;
}

std::vector<uint8_t> cuda_quantize_with_scales(int device, Dtype dtype, const uint8_t* source,
                                               uint64_t numel, const std::vector<float>& scales,
                                               std::size_t source_offset, std::size_t out_offset) {
  require_element_aligned(dtype, source_offset);
  QFP8_CUDA_CHECK(cudaSetDevice(device));
  const DeviceBytes input = upload(source, numel * dtype_size(dtype), source_offset);
  const DeviceBytes device_scales =
      upload(reinterpret_cast<const uint8_t*>(scales.data()), scales.size() * sizeof(float), 0);
  // The output sits between two poisoned guard bands, [0, out_offset) and kGuardBytes after
  // it: a stray write there stays inside the allocation, where memcheck cannot see it.
  constexpr std::size_t kGuardBytes = 16;
  constexpr uint8_t kPoison = 0xA5;
  const uint64_t buffer_bytes = out_offset + numel + kGuardBytes;
  const DeviceBytes output = allocate_device_bytes(buffer_bytes);
  const auto* scale_array = reinterpret_cast<const float*>(device_scales.get());
  std::vector<uint8_t> result(scales.size() * numel);
  std::vector<uint8_t> guards(out_offset + kGuardBytes);
  for (std::size_t s = 0; s < scales.size(); ++s) {
    // Poison the output too, so a byte the kernel fails to write cannot pass by luck.
    QFP8_CUDA_CHECK(cudaMemset(output.get(), kPoison, buffer_bytes));
    launch_quantize(dtype, input.get() + source_offset, numel, scale_array + s,
                    output.get() + out_offset, nullptr);
    QFP8_CUDA_CHECK(cudaDeviceSynchronize());
    if (numel > 0) {
      QFP8_CUDA_CHECK(cudaMemcpy(result.data() + s * numel, output.get() + out_offset, numel,
                                 cudaMemcpyDeviceToHost));
    }
    if (out_offset > 0) {
      QFP8_CUDA_CHECK(cudaMemcpy(guards.data(), output.get(), out_offset, cudaMemcpyDeviceToHost));
    }
    QFP8_CUDA_CHECK(cudaMemcpy(guards.data() + out_offset, output.get() + out_offset + numel,
                               kGuardBytes, cudaMemcpyDeviceToHost));
    for (std::size_t g = 0; g < guards.size(); ++g) {
      if (guards[g] == kPoison) continue;
      const bool before = g < out_offset;
      // Not CudaFailure: the device works, its result is wrong (the selftest says FAIL).
      throw Error(ErrorCode::VerificationFailed,
                  "quantize kernel wrote outside its output: byte " +
                      std::to_string(before ? out_offset - g : g - out_offset + 1) +
                      (before ? " before its first" : " after its last") + " element (" +
                      std::to_string(numel) + " " + std::string(dtype_name(dtype)) + " elements)");
    }
  }
  return result;
}

std::vector<float> cuda_scales_from_magnitudes(int device, Dtype dtype,
                                               const std::vector<uint32_t>& magnitudes) {
  QFP8_CUDA_CHECK(cudaSetDevice(device));
  const DeviceBytes device_magnitudes = upload(reinterpret_cast<const uint8_t*>(magnitudes.data()),
                                               magnitudes.size() * sizeof(uint32_t), 0);
  const DeviceBytes device_scales = allocate_device_bytes(magnitudes.size() * sizeof(float));
  const auto* magnitude_array = reinterpret_cast<const uint32_t*>(device_magnitudes.get());
  auto* scale_array = reinterpret_cast<float*>(device_scales.get());
  for (std::size_t k = 0; k < magnitudes.size(); ++k) {
    launch_scale_from_amax(dtype, magnitude_array + k, scale_array + k, nullptr);
  }
  QFP8_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> result(magnitudes.size());
  if (!result.empty()) {
    QFP8_CUDA_CHECK(cudaMemcpy(result.data(), scale_array, result.size() * sizeof(float),
                               cudaMemcpyDeviceToHost));
  }
  return result;
}

}  // namespace qfp8
