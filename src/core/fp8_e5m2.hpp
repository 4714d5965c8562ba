// fp8_e5m2.hpp — the numerics of the float8_e5m2 format (docs/format.md#numerics-e5m2): the
// cast, its inverse and the per-tensor scale rule. The same rule as the default format
// (core/fp8_e4m3fn.hpp) with E5M2's largest finite value, 57344, in place of 448. Header-only
// and __host__ __device__, integer bit manipulation except the one IEEE division.
#pragma once

#include <cstdint>

#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {

// 57344 = 1.75 * 2^15, the largest finite E5M2 value (code 0x7B). 0x7C is +Inf and
// 0x7D..0x7F are NaN (and the same with the sign bit): E5M2 is IEEE-like.
inline constexpr float kE5M2Max = 57344.0f;
inline constexpr uint8_t kE5M2MaxCode = 0x7B;
inline constexpr uint8_t kE5M2InfCode = 0x7C;

/// float32 -> E5M2, round to nearest even, saturating finite: |x| >= 57344 (Inf included)
/// gives ±57344, never Inf (the scale keeps every weight in range, so only a rounding
/// of the largest weight could reach it); NaN gives 0x7F. Subnormals (|x| < 2^-14) are
/// rounded exactly to multiples of 2^-16.
QFP8_HD uint8_t e5m2_from_f32(float value) {
  const uint32_t bits = float_bits(value);
  const uint8_t sign = static_cast<uint8_t>((bits >> 24) & 0x80u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return 0x7F;
  if (magnitude >= 0x47600000u) return static_cast<uint8_t>(sign | kE5M2MaxCode);  // >= 57344
  if (magnitude >= 0x38800000u) {
    // Normal range [2^-14, 57344): rebias the exponent (127 -> 15), round the 23-bit
    // mantissa to 2 bits, nearest even; a carry bumps the exponent and cannot pass 0x7B.
    const uint32_t rebiased = magnitude - (112u << 23);
    const uint32_t rounded = rebiased + 0xFFFFFu + ((rebiased >> 21) & 1u);
    return static_cast<uint8_t>(sign | (rounded >> 21));
  }
  // Subnormal: code = round_half_even(|x| * 2^16), 0..4 (4 is 2^-14, the first normal).
  const uint32_t exponent = magnitude >> 23;
  const uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 134u - exponent;  // |x| * 2^16 = significand >> shift; >= 22 here
  if (shift > 24u) return sign;            // below 2^-17: rounds to zero
  return static_cast<uint8_t>(sign | shift_right_round_even(significand, shift));
}

/// E5M2 code -> float32 (exact): E5M2 is the top byte of an F16.
QFP8_HD float e5m2_to_f32(uint8_t code) { return f16_to_f32(static_cast<uint16_t>(code << 8)); }

/// True for the Inf and NaN codes (exponent all ones), which a quantized weight never holds.
QFP8_HD bool e5m2_is_nonfinite(uint8_t code) { return (code & 0x7Cu) == 0x7Cu; }

/// scale = amax / 57344 (IEEE division); 1.0 for an all-zero tensor or an underflow, as
/// scale_from_amax() does for the default format.
QFP8_HD float e5m2_scale_from_amax(float amax) {
  const float scale = amax / kE5M2Max;
  return scale == 0.0f ? 1.0f : scale;
}

/// q = e5m2(w / scale): a true division, as for the default format.
QFP8_HD uint8_t quantize_e5m2(float weight, float scale) { return e5m2_from_f32(weight / scale); }

}  // namespace qfp8
