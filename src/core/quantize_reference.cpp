// quantize_reference.cpp — the plain scalar twins of docs/format.md#numerics and #formats: one
// element (or block) at a time, no tables, no threads, written once over the element traits. Every faster path is
// tested byte for byte against these.
#include "core/quantize_reference.hpp"

#include <string>

#include "core/block_formats.hpp"
#include "core/element_traits.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/fp8_e5m2.hpp"
#include "core/tensor_scale.hpp"

namespace qfp8 {

uint32_t absmax_magnitude_reference(Dtype dtype, const uint8_t* source, uint64_t numel) {
  return visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    uint32_t amax = 0;
    for (uint64_t i = 0; i < numel; ++i) {
      const uint32_t magnitude = E::magnitude(E::load(source, i));
      if (magnitude > amax) amax = magnitude;
    }
    return amax;
  });
}

bool magnitude_is_nonfinite(Dtype dtype, uint32_t magnitude) {
  return visit_element_type(
      dtype, [&](auto element) { return decltype(element)::is_nonfinite(magnitude); });
}

float amax_from_magnitude(Dtype dtype, uint32_t magnitude) {
  return visit_element_type(dtype,
                            [&](auto element) { return decltype(element)::amax(magnitude); });
}

float load_as_f32(Dtype dtype, const uint8_t* source, uint64_t index) {
  return visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    return E::widen(E::load(source, index));
  });
}

void quantize_reference(Dtype dtype, const uint8_t* source, uint64_t numel, float scale,
                        uint8_t* out) {
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    for (uint64_t i = 0; i < numel; ++i) {
      out[i] = quantize_e4m3fn(E::widen(E::load(source, i)), scale);
    }
  });
}

float tensor_scale_reference(QuantFormat format, Dtype dtype, uint32_t amax_magnitude) {
  return visit_element_type(dtype, [&](auto element) {
    return tensor_scale_of<decltype(element)>(format, amax_magnitude);
  });
}

void quantize_per_tensor_reference(QuantFormat format, Dtype dtype, const uint8_t* source,
                                   uint64_t numel, float scale, uint8_t* out) {
  if (format == QuantFormat::Float8E4m3fn) return quantize_reference(dtype, source, numel, scale, out);
  if (format != QuantFormat::Float8E5m2) {
    throw Error(ErrorCode::Internal, std::string("cannot quantize per tensor in ") +
                                         quant_format_name(format) + ": it is a block format");
  }
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    for (uint64_t i = 0; i < numel; ++i) out[i] = quantize_e5m2(E::widen(E::load(source, i)), scale);
  });
}

void quantize_block_rows(QuantFormat format, Dtype dtype, const uint8_t* source, uint64_t cols,
                         uint64_t first_row, uint64_t row_count, float tensor_scale,
                         uint8_t* data, uint8_t* scales, uint64_t padded_scale_cols) {
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    const uint32_t block = block_size(format);
    const uint64_t blocks = cols / block;
    for (uint64_t r = 0; r < row_count; ++r) {
      const uint64_t row = first_row + r;
      for (uint64_t b = 0; b < blocks; ++b) {
        const uint8_t* from = source + E::kSize * (row * cols + b * block);
        uint8_t code;
        if (format == QuantFormat::Nvfp4) {
          code = nvfp4_quantize_block<E>(from, tensor_scale, data + (r * cols + b * block) / 2);
        } else {
          code = mxfp8_quantize_block<E>(from, block, data + r * cols + b * block);
        }
        scales[blocked_scale_offset(row, b, padded_scale_cols)] = code;
      }
    }
  });
}

BlockQuantized quantize_blocks_reference(QuantFormat format, Dtype dtype, const uint8_t* source,
                                         uint64_t rows, uint64_t cols, float tensor_scale) {
  const auto scale_shape = block_scale_shape(format, rows, cols);
  const auto data_dims = data_shape(format, rows, cols);
  BlockQuantized result;
  result.data.resize(data_dims[0] * data_dims[1]);
  result.scales.assign(scale_shape[0] * scale_shape[1], 0);
  quantize_block_rows(format, dtype, source, cols, 0, rows, tensor_scale, result.data.data(),
                      result.scales.data(), scale_shape[1]);
  return result;
}

}  // namespace qfp8
