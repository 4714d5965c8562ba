// sim_kernels.cpp — the launchers of kernels/absmax_kernel.cuh, quantize_kernel.cuh and
// block_quantize_kernel.cuh for
// the simulated runtime: the real launchers' argument rules (float dtypes only, sources
// aligned to their element size via launch_config.cuh, no launch for 0 elements) and, as
// the kernel body, the scalar reference twins the real kernels are tested against on a GPU.
#include <algorithm>
#include <vector>

#include "core/block_formats.hpp"
#include "core/element_traits.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "cuda_sim.hpp"
#include "kernels/absmax_kernel.cuh"
#include "kernels/block_quantize_kernel.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/launch_config.cuh"
#include "kernels/quantize_kernel.cuh"

namespace qfp8 {
namespace {

// The real launchers reject through visit_element_type(); so does this, with its error.
void require_float_source(Dtype dtype) {
  visit_element_type(dtype, [](auto) {});
}

}  // namespace

void launch_absmax_magnitude(Dtype dtype, const void* source, uint64_t numel, uint32_t* amax,
                             cudaStream_t stream) {
  require_float_source(dtype);
  if (numel == 0) return;
  const uint64_t bytes = numel * dtype_size(dtype);
  (void)elements_before_alignment(source, dtype_size(dtype), numel, "absmax");
  sim::launch("absmax_kernel", stream, {{source, bytes}, {amax, sizeof *amax}}, [=] {
    *amax = std::max(*amax,
                     absmax_magnitude_reference(dtype, static_cast<const uint8_t*>(source), numel));
  });
  QFP8_CUDA_CHECK_LAUNCH("absmax_kernel");
}

void launch_scale_from_amax(QuantFormat format, Dtype dtype, const uint32_t* amax_magnitude,
                            float* scale, cudaStream_t stream) {
  require_float_source(dtype);
  sim::launch("scale_kernel", stream,
              {{amax_magnitude, sizeof *amax_magnitude}, {scale, sizeof *scale}},
              [=] { *scale = tensor_scale_reference(format, dtype, *amax_magnitude); });
  QFP8_CUDA_CHECK_LAUNCH("scale_kernel");
}

void launch_scale_from_amax(Dtype dtype, const uint32_t* amax_magnitude, float* scale,
                            cudaStream_t stream) {
  launch_scale_from_amax(QuantFormat::Float8E4m3fn, dtype, amax_magnitude, scale, stream);
}

void launch_quantize(QuantFormat format, Dtype dtype, const void* source, uint64_t numel,
                     const float* scale, uint8_t* out, cudaStream_t stream) {
  require_float_source(dtype);
  if (numel == 0) return;
  (void)elements_before_alignment(source, dtype_size(dtype), numel, "quantize");
  sim::launch("quantize_kernel", stream,
              {{source, numel * dtype_size(dtype)}, {scale, sizeof *scale}, {out, numel}}, [=] {
                quantize_per_tensor_reference(format, dtype, static_cast<const uint8_t*>(source),
                                              numel, *scale, out);
              });
  QFP8_CUDA_CHECK_LAUNCH("quantize_kernel");
}

void launch_quantize(Dtype dtype, const void* source, uint64_t numel, const float* scale,
                     uint8_t* out, cudaStream_t stream) {
  launch_quantize(QuantFormat::Float8E4m3fn, dtype, source, numel, scale, out, stream);
}

void launch_quantize_blocks(QuantFormat format, Dtype dtype, const void* source, uint64_t rows,
                            uint64_t cols, const float* tensor_scale, uint8_t* data,
                            uint8_t* scales, uint64_t padded_scale_cols, cudaStream_t stream) {
  require_float_source(dtype);
  const uint64_t numel = rows * cols;
  if (numel == 0) return;
  (void)elements_before_alignment(source, dtype_size(dtype), numel, "quantize_blocks");
  const uint64_t data_bytes = format == QuantFormat::Nvfp4 ? numel / 2 : numel;
  const uint64_t scale_bytes = padded_scale_rows(rows) * padded_scale_cols;
  std::vector<sim::DeviceRange> ranges = {{source, numel * dtype_size(dtype)}, {data, data_bytes},
                                    {scales, scale_bytes}};
  if (format == QuantFormat::Nvfp4) ranges.push_back({tensor_scale, sizeof *tensor_scale});
  sim::launch("quantize_blocks_kernel", stream, ranges, [=] {
    const float scale = format == QuantFormat::Nvfp4 ? *tensor_scale : 0.0f;
    quantize_block_rows(format, dtype, static_cast<const uint8_t*>(source), cols, 0, rows, scale,
                        data, scales, padded_scale_cols);
  });
  QFP8_CUDA_CHECK_LAUNCH("quantize_blocks_kernel");
}

}  // namespace qfp8
