// fp8_e4m3fn.hpp — THE numerics of qfp8-cuda (docs/format.md#numerics), shared by the CPU path, the
// CUDA kernels and the tests. Header-only and __host__ __device__ so that every path compiles the
// very same code. Integer bit manipulation only: no rounding-mode or fast-math dependence; the
// float operations are the IEEE division in quantize_e4m3fn(), which is what makes results equal
// to the reference converter, and the guarded reciprocal of e4m3fn_cast_operand(), which gives
// the same codes (the GPU's fast path).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define QFP8_HD __host__ __device__ __forceinline__
#else
#define QFP8_HD inline
#endif

namespace qfp8 {

// 448 = 1.75 * 2^8, the largest finite E4M3FN value (code 0x7E).
inline constexpr float kE4M3Max = 448.0f;
inline constexpr uint8_t kE4M3MaxCode = 0x7E;
// 0x7F and 0xFF are the only NaN codes; E4M3FN has no infinities.
inline constexpr uint8_t kE4M3NanCode = 0x7F;

/// True for the two NaN codes, which a weight quantized from finite values never holds.
QFP8_HD bool e4m3fn_is_nan(uint8_t code) { return (code & 0x7Fu) == kE4M3NanCode; }

QFP8_HD uint32_t float_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

QFP8_HD float float_from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

/// BF16 is the top half of an F32: widening is exact.
QFP8_HD float bf16_to_f32(uint16_t bits) { return float_from_bits(uint32_t{bits} << 16); }

/// IEEE binary16 -> binary32, exact for every value (subnormals, Inf, NaN included).
QFP8_HD float f16_to_f32(uint16_t bits) {
  const uint32_t sign = uint32_t{bits & 0x8000u} << 16;
  const uint32_t exponent = (bits >> 10) & 0x1Fu;
  uint32_t mantissa = bits & 0x3FFu;
  if (exponent == 0x1F) return float_from_bits(sign | 0x7F800000u | (mantissa << 13));
  if (exponent != 0) return float_from_bits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  if (mantissa == 0) return float_from_bits(sign);
  // Subnormal half: normalise. value = mantissa * 2^-24.
  uint32_t shift = 0;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    ++shift;
  }
  return float_from_bits(sign | ((113u - shift) << 23) | ((mantissa & 0x3FFu) << 13));
}

/// round_half_even(significand / 2^shift) for 1 <= shift <= 24: the subnormal range of
/// every narrower format (E4M3FN, E5M2, F16) is a float's significand shifted this way.
QFP8_HD uint32_t shift_right_round_even(uint32_t significand, uint32_t shift) {
  const uint32_t truncated = significand >> shift;
  const uint32_t remainder = significand & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  return truncated + ((remainder > half || (remainder == half && (truncated & 1u))) ? 1u : 0u);
}

/// float32 -> E4M3FN, round to nearest even, saturating finite: |x| >= 448 (Inf included)
/// gives ±448; NaN gives 0x7F. Subnormals (|x| < 2^-6) are rounded exactly
/// to multiples of 2^-9.
QFP8_HD uint8_t e4m3fn_from_f32(float value) {
  const uint32_t bits = float_bits(value);
  const uint8_t sign = static_cast<uint8_t>((bits >> 24) & 0x80u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  // NaN gives the canonical 0x7F whatever its sign, as the hardware cvt does.
  if (magnitude > 0x7F800000u) return kE4M3NanCode;
  if (magnitude >= 0x43E00000u) return static_cast<uint8_t>(sign | kE4M3MaxCode);  // >= 448
  if (magnitude >= 0x3C800000u) {
    // Normal E4M3 range [2^-6, 448): rebias the exponent (127 -> 7), then round the
    // 23-bit mantissa to 3 bits, nearest even. A carry out of the mantissa correctly
    // bumps the exponent; the result cannot pass 0x7E because the input is < 448.
    const uint32_t rebiased = magnitude - (120u << 23);
    const uint32_t rounded = rebiased + 0x7FFFFu + ((rebiased >> 20) & 1u);
    return static_cast<uint8_t>(sign | (rounded >> 20));
  }
  // Subnormal E4M3: code = round_half_even(|x| * 2^9), 0..8 (8 encodes 2^-6, the first
  // normal, which is exactly where the subnormal range carries into the exponent).
  const uint32_t exponent = magnitude >> 23;
  const uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
  // |x| * 2^9 = significand * 2^(exponent - 127 - 23 + 9) = significand >> (141 - exponent).
  const uint32_t shift = 141u - exponent;  // >= 21 since exponent <= 120
  if (shift > 24u) return sign;  // below 2^-10: rounds to zero
  return static_cast<uint8_t>(sign | shift_right_round_even(significand, shift));
}

/// E4M3FN code -> float32 (exact). NaN codes give a quiet NaN.
QFP8_HD float e4m3fn_to_f32(uint8_t code) {
  const uint32_t sign = uint32_t{code & 0x80u} << 24;
  const uint32_t exponent = (code >> 3) & 0xFu;
  const uint32_t mantissa = code & 0x7u;
  if (exponent == 0xF && mantissa == 0x7) return float_from_bits(sign | 0x7FC00000u);
  if (exponent == 0) {
    // mantissa * 2^-9, exact in float.
    return float_from_bits(sign | float_bits(static_cast<float>(mantissa) * (1.0f / 512.0f)));
  }
  return float_from_bits(sign | ((exponent + 120u) << 23) | (mantissa << 20));
}

// --- absmax (docs/format.md#numerics-absmax) ------------------------------------------
// For IEEE formats the magnitude bits (sign cleared) order exactly like |value|, so the
// absmax is an integer max: order-independent, hence identical on every thread and GPU.

/// Magnitude bits of one element.
QFP8_HD uint32_t bf16_magnitude(uint16_t bits) { return bits & 0x7FFFu; }
QFP8_HD uint32_t f16_magnitude(uint16_t bits) { return bits & 0x7FFFu; }
QFP8_HD uint32_t f32_magnitude(uint32_t bits) { return bits & 0x7FFFFFFFu; }

/// A magnitude at or above these marks Inf or NaN in the tensor
/// (docs/format.md#numerics-nonfinite).
inline constexpr uint32_t kBf16NonFiniteMagnitude = 0x7F80u;
inline constexpr uint32_t kF16NonFiniteMagnitude = 0x7C00u;
inline constexpr uint32_t kF32NonFiniteMagnitude = 0x7F800000u;

/// Magnitude bits -> amax as float32 (exact widening).
QFP8_HD float amax_from_bf16_magnitude(uint32_t magnitude) {
  return bf16_to_f32(static_cast<uint16_t>(magnitude));
}
QFP8_HD float amax_from_f16_magnitude(uint32_t magnitude) {
  return f16_to_f32(static_cast<uint16_t>(magnitude));
}
QFP8_HD float amax_from_f32_magnitude(uint32_t magnitude) { return float_from_bits(magnitude); }

// --- scale and quantization (docs/format.md#numerics-scale, #numerics-cast) -----------

/// scale = amax / 448 (IEEE division); 1.0 for an all-zero tensor. Also 1.0 when the
/// division underflows to zero, which only an F32 tensor with amax at or below 448 * 2^-150
/// (~3.1e-43, 224 smallest subnormals; the exact quotient 2^-150 ties to even, to 0) can
/// reach: a zero scale would turn its zeros into 0/0 = NaN codes, while 1.0 stores every
/// such weight as code 0, within 3.2e-43 of its value.
QFP8_HD float scale_from_amax(float amax) {
  const float scale = amax / kE4M3Max;
  return scale == 0.0f ? 1.0f : scale;
}

/// q = e4m3fn(w / scale): a true division, never w * (1 / scale) — the two differ on
/// exact ties for about one scale in five.
QFP8_HD uint8_t quantize_e4m3fn(float weight, float scale) {
  return e4m3fn_from_f32(weight / scale);
}

// --- the same codes through a reciprocal (docs/numerics.md#reciprocal) ---------------
// w * r, with r = 1 / scale rounded, is within 2^-23 + 2^-48 (relative) of the exact quotient
// and w / scale within 2^-24 when both are normal floats: fewer than 3 float ulps apart, so at
// most 2. The cast is a
// step function of its float input whose steps lie only at E4M3 rounding midpoints; where
// the product is more than kMidpointGuardUlps ulps from every midpoint, no midpoint lies
// between the two floats and their codes are equal. Elsewhere (near a midpoint, in E4M3's
// subnormal range, non-finite) the division decides. A multiply costs a GPU a fraction of an
// IEEE division (a multi-instruction sequence); tests/core/test_reciprocal_cast.cpp proves
// the equality for every BF16 and F16 weight under every scale a BF16 or F16 amax gives.

/// Float ulps of distance from an E4M3 midpoint below which the product is not trusted (2
/// suffice by the bound above; 4 leave margin, and the division they cost is rare: 9 of
/// 2^20 mantissa patterns).
inline constexpr uint32_t kMidpointGuardUlps = 4;

/// 1 / scale, or 0 when a product by it cannot stand for the quotient: the reciprocal of a
/// subnormal scale overflows, and with 0 every element divides.
QFP8_HD float e4m3fn_reciprocal_of_scale(float scale) {
  const float reciprocal = 1.0f / scale;
  const uint32_t magnitude = float_bits(reciprocal) & 0x7FFFFFFFu;
  return magnitude >= 0x00800000u && magnitude < 0x7F800000u ? reciprocal : 0.0f;
}

/// A float whose E4M3FN cast equals that of weight / scale: weight * reciprocal where it
/// provably casts the same (reciprocal from e4m3fn_reciprocal_of_scale(scale)), else the
/// quotient itself.
QFP8_HD float e4m3fn_cast_operand(float weight, float scale, float reciprocal) {
  const float product = weight * reciprocal;
  const uint32_t magnitude = float_bits(product) & 0x7FFFFFFFu;
  // Below 2^-11 the quotient is below 2^-10, half the smallest subnormal: ±0 either way.
  const bool below_half_subnormal = magnitude < 0x3A000000u;
  // [2^-6, Inf): E4M3's normal range, where a midpoint is a float whose 20 bits below the
  // 3 kept mantissa bits read 0x80000 (at and above 448 every float saturates alike).
  const bool normal_range = magnitude >= 0x3C800000u && magnitude < 0x7F800000u;
  const uint32_t below_kept = magnitude & 0xFFFFFu;
  const bool near_midpoint =
      below_kept - (0x80000u - kMidpointGuardUlps) <= 2 * kMidpointGuardUlps;
  if (reciprocal != 0.0f && (below_half_subnormal || (normal_range && !near_midpoint))) {
    return product;
  }
  return weight / scale;
}

}  // namespace qfp8
