// block_quantize_kernel.cu — mxfp8 and nvfp4 on the device: each thread quantizes whole
// blocks with mxfp8_quantize_block() / nvfp4_quantize_block() from core/block_formats.hpp,
// the very functions the CPU runs, and writes the block's scale code at its place in the
// blocked scale layout (docs/format.md#blocked-scales).
//
// Kernel:    quantize_blocks_kernel<E, kNvfp4>, a grid-stride loop over the blocks of the
//            weight (row-major), over the element traits E (core/element_traits.hpp).
// Launcher:  launch_quantize_blocks() (block_quantize_kernel.cuh).
// Traffic:   per element: BF16/F16 2 bytes read, F32 4; 1 byte written (mxfp8) or 1/2
//            (nvfp4); plus one scale byte per 32 (mxfp8) or 16 (nvfp4) elements.
// CPU twin:  quantize_block_rows() (core/quantize_reference.hpp), which the CPU backend's
//            tasks run.
#include "kernels/block_quantize_kernel.cuh"

#include <string>

#include "core/block_formats.hpp"
#include "core/element_traits.hpp"
#include "core/error.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/launch_config.cuh"

namespace qfp8 {
namespace {

template <class E, bool kNvfp4>
__global__ void __launch_bounds__(kThreadsPerBlock)
    quantize_blocks_kernel(const uint8_t* source, uint64_t rows, uint64_t cols,
                           const float* tensor_scale, uint8_t* data, uint8_t* scales,
                           uint64_t padded_scale_cols) {
  constexpr uint32_t kBlock = kNvfp4 ? kNvfp4BlockSize : kMxfp8BlockSize;
  const uint64_t blocks_per_row = cols / kBlock;
  const uint64_t blocks = rows * blocks_per_row;
  const float scale = kNvfp4 ? *tensor_scale : 0.0f;
  const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
  for (uint64_t t = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x; t < blocks; t += stride) {
    const uint64_t row = t / blocks_per_row;
    const uint64_t block = t % blocks_per_row;
    const uint64_t first = row * cols + block * kBlock;
    const uint8_t* from = source + E::kSize * first;
    uint8_t code;
    if constexpr (kNvfp4) {
      code = nvfp4_quantize_block<E>(from, scale, data + first / 2);
    } else {
      code = mxfp8_quantize_block<E>(from, kBlock, data + first);
    }
    scales[blocked_scale_offset(row, block, padded_scale_cols)] = code;
  }
}

}  // namespace

void launch_quantize_blocks(QuantFormat format, Dtype dtype, const void* source, uint64_t rows,
                            uint64_t cols, const float* tensor_scale, uint8_t* data,
                            uint8_t* scales, uint64_t padded_scale_cols, cudaStream_t stream) {
  if (format != QuantFormat::Mxfp8 && format != QuantFormat::Nvfp4) {
    throw Error(ErrorCode::Internal, std::string("cannot launch the block quantizer for ") +
                                         quant_format_name(format) + ": not a block format");
  }
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    const uint64_t blocks = rows * (cols / block_size(format));
    if (blocks == 0) return;
    (void)elements_before_alignment(source, E::kSize, rows * cols, "quantize_blocks");
    const auto* bytes = static_cast<const uint8_t*>(source);
    if (format == QuantFormat::Nvfp4) {
      quantize_blocks_kernel<E, true><<<blocks_for(blocks), kThreadsPerBlock, 0, stream>>>(
          bytes, rows, cols, tensor_scale, data, scales, padded_scale_cols);
    } else {
      quantize_blocks_kernel<E, false><<<blocks_for(blocks), kThreadsPerBlock, 0, stream>>>(
          bytes, rows, cols, tensor_scale, data, scales, padded_scale_cols);
    }
    QFP8_CUDA_CHECK_LAUNCH("quantize_blocks_kernel");
  });
}

}  // namespace qfp8
