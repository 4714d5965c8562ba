// sim_kernels.cpp — the launchers of kernels/absmax_kernel.cuh and quantize_kernel.cuh for
// the simulated runtime: the real launchers' argument rules (float dtypes only, sources
// aligned to their element size via launch_config.cuh, no launch for 0 elements) and, as
// the kernel body, the scalar reference twins the real kernels are tested against on a GPU.
#include <algorithm>

#include "core/element_traits.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "cuda_sim.hpp"
#include "kernels/absmax_kernel.cuh"
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

void launch_scale_from_amax(Dtype dtype, const uint32_t* amax_magnitude, float* scale,
                            cudaStream_t stream) {
  require_float_source(dtype);
  sim::launch("scale_kernel", stream,
              {{amax_magnitude, sizeof *amax_magnitude}, {scale, sizeof *scale}},
              [=] { *scale = scale_from_amax(amax_from_magnitude(dtype, *amax_magnitude)); });
  QFP8_CUDA_CHECK_LAUNCH("scale_kernel");
}

void launch_quantize(Dtype dtype, const void* source, uint64_t numel, const float* scale,
                     uint8_t* out, cudaStream_t stream) {
  require_float_source(dtype);
  if (numel == 0) return;
  (void)elements_before_alignment(source, dtype_size(dtype), numel, "quantize");
  sim::launch("quantize_kernel", stream,
              {{source, numel * dtype_size(dtype)}, {scale, sizeof *scale}, {out, numel}}, [=] {
                quantize_reference(dtype, static_cast<const uint8_t*>(source), numel, *scale, out);
              });
  QFP8_CUDA_CHECK_LAUNCH("quantize_kernel");
}

}  // namespace qfp8
