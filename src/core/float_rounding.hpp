// float_rounding.hpp — float32 -> BF16 and float32 -> F16, round to nearest, ties to even:
// what `--keep-dtype bf16` and `dequantize` write, and how the nvfp4 per-tensor scale is
// rounded to its tensor's dtype (core/block_formats.hpp). Integer bit manipulation only, so
// the result depends on neither the FPU's rounding mode nor fast-math flags; host and device.
#pragma once

#include <cstdint>

#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {

/// BF16 bits of `value`, round to nearest even. BF16 keeps the top 16 bits of a float32,
/// so rounding adds half an ulp (0x7FFF) plus the kept lsb (ties go to even); a carry may
/// roll into the exponent, which correctly rounds the largest finite values up to Inf.
/// NaN stays NaN (quiet bit set), since adding could otherwise carry it into Inf.
QFP8_HD uint16_t f32_to_bf16_rne(float value) {
  const uint32_t bits = float_bits(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  const uint32_t rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(rounded >> 16);
}

/// IEEE binary16 bits of `value`, round to nearest even, subnormals exact; 65520 and above
/// (the midpoint past 65504) give Inf, NaN a quiet NaN.
QFP8_HD uint16_t f32_to_f16_rne(float value) {
  const uint32_t bits = float_bits(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);
  if (magnitude >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);
  if (magnitude >= 0x38800000u) {
    // Normal [2^-14, 65520): rebias 127 -> 15, round 23 mantissa bits to 10.
    const uint32_t rebiased = magnitude - (112u << 23);
    const uint32_t rounded = rebiased + 0xFFFu + ((rebiased >> 13) & 1u);
    return static_cast<uint16_t>(sign | (rounded >> 13));
  }
  // Subnormal: code = round_half_even(|x| * 2^24).
  const uint32_t exponent = magnitude >> 23;
  const uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - exponent;  // >= 14 here
  if (shift > 24u) return sign;
  return static_cast<uint16_t>(sign | shift_right_round_even(significand, shift));
}

}  // namespace qfp8
