// dequantize_rows.cpp — RowDecoder: the decode rules of dequantize_rows.hpp, over the
// core's decoders (e4m3fn_to_f32, e5m2_to_f32, e8m0_to_f32, e2m1_to_f32) and blocked scale
// layout (blocked_scale_offset).
#include "dequantize/dequantize_rows.hpp"

#include "core/block_formats.hpp"
#include "core/float_rounding.hpp"
#include "core/fp4_e2m1.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/fp8_e5m2.hpp"

namespace qfp8 {
namespace {

void put_bf16(float value, uint8_t* out) {
  const uint16_t bits = f32_to_bf16_rne(value);
  out[0] = static_cast<uint8_t>(bits & 0xFFu);
  out[1] = static_cast<uint8_t>(bits >> 8);
}

}  // namespace

RowDecoder::RowDecoder(const DequantizeOutput& output, const uint8_t* data,
                       const uint8_t* block_scales)
    : output_(output), data_(data), block_scales_(block_scales) {
  if (has_block_scales(output.format)) {
    padded_blocks_ = padded_scale_cols(output.cols / block_size(output.format));
    return;
  }
  // A per-tensor format's result depends on the code alone: 256 products, not one per element.
  for (unsigned code = 0; code < 256; ++code) {
    const auto byte = static_cast<uint8_t>(code);
    const float value =
        output.format == QuantFormat::Float8E5m2 ? e5m2_to_f32(byte) : e4m3fn_to_f32(byte);
    per_tensor_[code] = f32_to_bf16_rne(value * output.scale);
  }
}

void RowDecoder::decode_rows(uint64_t first_row, uint64_t row_count, uint8_t* out) const {
  const uint64_t cols = output_.cols;
  for (uint64_t r = 0; r < row_count; ++r) {
    const uint64_t row = first_row + r;
    uint8_t* row_out = out + r * cols * 2;
    switch (output_.format) {
      case QuantFormat::Mxfp8:
        decode_mxfp8_row(row, row_out);
        break;
      case QuantFormat::Nvfp4:
        decode_nvfp4_row(row, row_out);
        break;
      default:
        for (uint64_t c = 0; c < cols; ++c) {
          const uint16_t bits = per_tensor_[data_[row * cols + c]];
          row_out[2 * c] = static_cast<uint8_t>(bits & 0xFFu);
          row_out[2 * c + 1] = static_cast<uint8_t>(bits >> 8);
        }
        break;
    }
  }
}

void RowDecoder::decode_mxfp8_row(uint64_t row, uint8_t* out) const {
  const uint64_t cols = output_.cols;
  for (uint64_t block = 0; block < cols / kMxfp8BlockSize; ++block) {
    const float scale =
        e8m0_to_f32(block_scales_[blocked_scale_offset(row, block, padded_blocks_)]);
    for (uint64_t i = 0; i < kMxfp8BlockSize; ++i) {
      const uint64_t column = block * kMxfp8BlockSize + i;
      put_bf16(e4m3fn_to_f32(data_[row * cols + column]) * scale, out + 2 * column);
    }
  }
}

void RowDecoder::decode_nvfp4_row(uint64_t row, uint8_t* out) const {
  const uint64_t cols = output_.cols;
  const uint8_t* packed = data_ + row * (cols / 2);
  for (uint64_t block = 0; block < cols / kNvfp4BlockSize; ++block) {
    const float scale =
        e4m3fn_to_f32(block_scales_[blocked_scale_offset(row, block, padded_blocks_)]);
    for (uint64_t i = 0; i < kNvfp4BlockSize; ++i) {
      const uint64_t column = block * kNvfp4BlockSize + i;
      // The even element in the high nibble (docs/format.md#numerics-nvfp4).
      const uint8_t byte = packed[column / 2];
      const uint8_t nibble =
          (column % 2 == 0) ? static_cast<uint8_t>(byte >> 4) : static_cast<uint8_t>(byte & 0x0Fu);
      put_bf16((e2m1_to_f32(nibble) * scale) * output_.scale, out + 2 * column);
    }
  }
}

}  // namespace qfp8
