// block_formats.hpp — the numerics of the two block-scaled formats (docs/format.md#numerics-mxfp8,
// #numerics-nvfp4), rule for rule as comfy-kitchen's reference quantizers compute them:
//   mxfp8: blocks of 32 along a row, E4M3FN data, one E8M0 power-of-two scale per block;
//   nvfp4: blocks of 16 along a row, E2M1 data, one E4M3FN scale per block, one F32 scale
//          per tensor.
// Written once over the element type E (core/element_traits.hpp) and __host__ __device__: the
// CPU backend, the CUDA kernels and the reference twins all call these functions.
#pragma once

#include <cstdint>

#include "core/fp4_e2m1.hpp"
#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {

inline constexpr uint32_t kMxfp8BlockSize = 32;
inline constexpr uint32_t kNvfp4BlockSize = 16;
inline constexpr int kE8M0Bias = 127;

// --- the blocked scale layout (docs/format.md#blocked-scales) ---------------------------
// Both formats store their block scales as cuBLAS's block-scaling layout expects them: the
// [rows, blocks per row] matrix is padded with zeros to multiples of 128 rows and 4 columns,
// cut into 128 x 4 tiles stored one after the other (row of tiles by row of tiles), and
// inside a tile row r and column c go to (r % 32) * 16 + (r / 32) * 4 + c.

QFP8_HD uint64_t padded_scale_rows(uint64_t rows) { return (rows + 127) / 128 * 128; }
QFP8_HD uint64_t padded_scale_cols(uint64_t blocks_per_row) { return (blocks_per_row + 3) / 4 * 4; }

/// Byte offset of block `block` of row `row` in the blocked scale tensor whose padded
/// width is `padded_cols` (a multiple of 4).
QFP8_HD uint64_t blocked_scale_offset(uint64_t row, uint64_t block, uint64_t padded_cols) {
  const uint64_t tile = (row / 128) * (padded_cols / 4) + block / 4;
  return tile * 512 + (row % 32) * 16 + ((row % 128) / 32) * 4 + block % 4;
}

/// Largest magnitude bits of `count` elements at `source` (block amax, integer max).
template <class E>
QFP8_HD uint32_t block_amax_magnitude(const uint8_t* source, uint32_t count) {
  uint32_t amax = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t magnitude = E::magnitude(E::load(source, i));
    amax = magnitude > amax ? magnitude : amax;
  }
  return amax;
}

// --- mxfp8 ------------------------------------------------------------------------------

/// ceil(log2(x)) as comfy-kitchen gets it from torch: log2 rounded to float32 first, then
/// the ceiling. For x = m * 2^k with 1 < m < 2 the float log2 of x rounds down to k itself
/// when log2(m) is below half the float spacing next to k, so the result is k, not k + 1:
/// for |k| of 4 and more the mantissa's first few steps above 1 do that. `x` is positive
/// and at least 2^-127 (the caller's clamp); Inf and NaN, which the converter rejects
/// before any block is quantized, give 128, above every finite result, so that a caller's
/// clamp still holds (a NaN's mantissa would otherwise index past the table below, and a
/// reader of untrusted files may pass one). kMantissaStepsRoundingToK[e] is the
/// largest number of 2^-23 steps n with log2(1 + n * 2^-23) < 2^(e - 24), the half spacing
/// of floats in [2^e, 2^(e+1)); tests/core/test_block_formats.cpp derives it independently.
QFP8_HD int ceil_log2_as_float32(float x) {
  const uint32_t bits = float_bits(x);
  uint32_t exponent_field = bits >> 23;
  uint32_t mantissa = bits & 0x7FFFFFu;
  if ((exponent_field & 0xFFu) == 0xFFu) return 128;  // Inf or NaN, of either sign
  int k;
  if (exponent_field == 0) {
    // Subnormal (2^-127 <= x < 2^-126): x = mantissa * 2^-149, normalise.
    int top = 22;
    while (((mantissa >> top) & 1u) == 0) --top;
    k = top - 149;
    mantissa = (mantissa << (23 - top)) & 0x7FFFFFu;
  } else {
    k = static_cast<int>(exponent_field) - 127;
  }
  if (mantissa == 0) return k;  // an exact power of two: log2 is exact
  if (k == 0) return 1;         // log2(m) itself is a float above 0
  const uint32_t magnitude = static_cast<uint32_t>(k < 0 ? -k : k);
  int e = 0;  // floor(log2(|k|)), a loop: no clz builtin is common to every compiler here
  while ((magnitude >> (e + 1)) != 0) ++e;
  // Below a negative power of two the float spacing halves (k + t sits in the binade under |k|).
  if (k < 0 && (magnitude & (magnitude - 1u)) == 0) --e;
  const uint32_t kMantissaStepsRoundingToK[8] = {0, 0, 0, 1, 2, 5, 11, 22};  // e = -1 .. 6
  return mantissa <= kMantissaStepsRoundingToK[e + 1] ? k : k + 1;
}

/// The E8M0 scale code of a block with amax `amax`: the smallest power of two 2^p with
/// amax / 448 <= 2^p (p from ceil_log2_as_float32 of the quotient, clamped below at -127),
/// biased by 127 and clamped to [0, 254]. 0 for an all-zero block.
QFP8_HD uint8_t mxfp8_scale_code(float amax) {
  if (amax == 0.0f) return 0;
  float needed = amax / kE4M3Max;
  const float smallest = float_from_bits(0x00400000u);  // 2^-127
  if (needed < smallest) needed = smallest;
  int code = ceil_log2_as_float32(needed) + kE8M0Bias;
  code = code < 0 ? 0 : (code > 254 ? 254 : code);
  return static_cast<uint8_t>(code);
}

/// E8M0 code -> float32 as comfy-kitchen decodes it: 2^(code - 127), and 0 for code 0.
QFP8_HD float e8m0_to_f32(uint8_t code) {
  return code == 0 ? 0.0f : float_from_bits(uint32_t{code} << 23);
}

/// Element of an mxfp8 block: e4m3fn(x / 2^p), clamped to ±448. A block whose code is 0
/// but whose amax is not (amax / 448 at most 2^-127, or for F32 up to 22 float steps above,
/// where the float32 log2 still rounds to -127) has a zero scale in comfy-kitchen, so its
/// nonzero elements become ±448 (x / 0 = ±Inf, clamped); its zeros stay signed zeros here,
/// where comfy-kitchen's 0 / 0 writes a NaN code (docs/numerics.md#mxfp8-deviations).
QFP8_HD uint8_t mxfp8_element(float value, float block_scale) {
  if (block_scale == 0.0f) {
    const uint8_t sign = static_cast<uint8_t>((float_bits(value) >> 24) & 0x80u);
    return (float_bits(value) & 0x7FFFFFFFu) == 0 ? sign : static_cast<uint8_t>(sign | kE4M3MaxCode);
  }
  return e4m3fn_from_f32(value / block_scale);
}

/// Quantizes one block of `count` (<= 32) elements at `source` into `out`; returns its code.
/// An all-zero block gives code 0 and +0 data.
template <class E>
QFP8_HD uint8_t mxfp8_quantize_block(const uint8_t* source, uint32_t count, uint8_t* out) {
  const uint32_t amax_bits = block_amax_magnitude<E>(source, count);
  if (amax_bits == 0) {
    for (uint32_t i = 0; i < count; ++i) out[i] = 0;
    return 0;
  }
  const uint8_t code = mxfp8_scale_code(E::amax(amax_bits));
  const float scale = e8m0_to_f32(code);
  for (uint32_t i = 0; i < count; ++i) out[i] = mxfp8_element(E::widen(E::load(source, i)), scale);
  return code;
}

// --- nvfp4 ------------------------------------------------------------------------------

/// 448 * 6: the per-tensor scale maps the tensor's amax onto the largest block scale times
/// the largest element.
inline constexpr float kNvfp4ScaleDivisor = kE4M3Max * kE2M1Max;

/// The per-tensor scale (`weight_scale_2`) from the tensor's amax as comfy-kitchen computes
/// it: amax / 2688 in the tensor's own dtype (a float32 division rounded to BF16 or F16 for
/// those tensors: E::round_to_source), widened to float32.
/// A zero scale (an all-zero tensor, or a quotient that underflows the dtype: amax below about
/// 2688 * 2^-25 for F16, 2^-134 for BF16, 2^-150 for F32) becomes 1.0: comfy-kitchen keeps
/// the 0 and divides by it, writing NaN codes (docs/numerics.md#nvfp4-deviations).
template <class E>
QFP8_HD float nvfp4_tensor_scale(uint32_t amax_magnitude) {
  const float scale = E::round_to_source(E::amax(amax_magnitude) / kNvfp4ScaleDivisor);
  return scale == 0.0f ? 1.0f : scale;
}

/// The E4M3FN code of a block's scale: (amax / 6) / tensor_scale, clamped to 448 (the
/// per-tensor scale was rounded, so the largest block can land just above it), rounded.
QFP8_HD uint8_t nvfp4_block_scale_code(float block_amax, float tensor_scale) {
  float scaled = (block_amax / kE2M1Max) / tensor_scale;
  if (scaled > kE4M3Max) scaled = kE4M3Max;
  return e4m3fn_from_f32(scaled);
}

/// Quantizes one block of 16 elements at `source` into 8 bytes at `out`, two E2M1 codes per
/// byte, the first element in the high nibble; returns the block scale's E4M3FN code. A
/// block whose total scale (tensor scale times block scale) is 0 is all +0 codes.
template <class E>
QFP8_HD uint8_t nvfp4_quantize_block(const uint8_t* source, float tensor_scale, uint8_t* out) {
  const uint32_t amax_bits = block_amax_magnitude<E>(source, kNvfp4BlockSize);
  const uint8_t code = nvfp4_block_scale_code(E::amax(amax_bits), tensor_scale);
  const float total = tensor_scale * e4m3fn_to_f32(code);
  for (uint32_t pair = 0; pair < kNvfp4BlockSize / 2; ++pair) {
    uint8_t nibbles[2] = {0, 0};
    if (total != 0.0f) {
      for (uint32_t half = 0; half < 2; ++half) {
        // comfy-kitchen clamps to ±6 before its cast; e2m1_from_f32 saturates there itself.
        nibbles[half] = e2m1_from_f32(E::widen(E::load(source, 2 * pair + half)) / total);
      }
    }
    out[pair] = static_cast<uint8_t>((nibbles[0] << 4) | nibbles[1]);
  }
  return code;
}

}  // namespace qfp8
