// dequantize_rows.hpp — the decode rules of every format (docs/format.md#formats), rows of a
// quantized weight at a time into little-endian BF16, so that a weight of any size is
// dequantized in bounded memory. Each value is computed in float32 and rounded to BF16,
// nearest even:
//   float8_e4m3fn / float8_e5m2: value(code) * scale;
//   mxfp8: e4m3fn(code) * 2^(block code - 127), block code 0 decoding to 0;
//   nvfp4: (e2m1(nibble) * e4m3fn(block code)) * weight_scale_2, in that order: the first
//          product is exact in float32 (2 + 4 significant bits), so the one rounding is the
//          last multiply's.
#pragma once

#include <array>
#include <cstdint>

#include "dequantize/dequantize.hpp"

namespace qfp8 {

class RowDecoder {
 public:
  /// `data` is the layer's `L.weight` bytes, `block_scales` its blocked `L.weight_scale`
  /// (block formats; null otherwise), both as in the input file.
  RowDecoder(const DequantizeOutput& output, const uint8_t* data, const uint8_t* block_scales);

  /// Writes rows [first_row, first_row + row_count) as BF16, little-endian, to `out`
  /// (row_count * cols * 2 bytes).
  void decode_rows(uint64_t first_row, uint64_t row_count, uint8_t* out) const;

 private:
  void decode_mxfp8_row(uint64_t row, uint8_t* out) const;
  void decode_nvfp4_row(uint64_t row, uint8_t* out) const;

  const DequantizeOutput& output_;
  const uint8_t* data_;
  const uint8_t* block_scales_;
  uint64_t padded_blocks_ = 0;              // the blocked scales' width
  std::array<uint16_t, 256> per_tensor_{};  // per-tensor formats: each code's BF16 result
};

}  // namespace qfp8
