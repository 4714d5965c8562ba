// fp4_e2m1.hpp — the 4-bit E2M1 element of NVFP4 (docs/format.md#numerics-nvfp4): eight
// magnitudes {0, 0.5, 1, 1.5, 2, 3, 4, 6} and a sign bit, no Inf or NaN. Header-only and
// __host__ __device__.
#pragma once

#include <cstdint>

#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {

inline constexpr float kE2M1Max = 6.0f;

/// float32 -> E2M1 code (0..15), round to nearest even, saturating at ±6. The sign is
/// the input's, so -0 and negative values that round to zero give 0x8, as comfy-kitchen's
/// cast does. With eight magnitudes the rounding is a ladder of midpoints: a midpoint goes
/// to the neighbour with the even code (0.25 -> 0, 0.75 -> 1, 1.25 -> 1, 1.75 -> 2,
/// 2.5 -> 2, 3.5 -> 4, 5 -> 4).
QFP8_HD uint8_t e2m1_from_f32(float value) {
  const uint32_t bits = float_bits(value);
  const uint8_t sign = static_cast<uint8_t>((bits >> 28) & 0x8u);
  const float magnitude = float_from_bits(bits & 0x7FFFFFFFu);
  uint8_t code;
  if (magnitude <= 0.25f) code = 0;
  else if (magnitude < 0.75f) code = 1;
  else if (magnitude <= 1.25f) code = 2;
  else if (magnitude < 1.75f) code = 3;
  else if (magnitude <= 2.5f) code = 4;
  else if (magnitude < 3.5f) code = 5;
  else if (magnitude <= 5.0f) code = 6;
  else code = 7;  // [5, 6] and beyond saturate; NaN never reaches the cast
  return static_cast<uint8_t>(sign | code);
}

/// E2M1 code (low 4 bits) -> float32 (exact).
QFP8_HD float e2m1_to_f32(uint8_t code) {
  // Magnitudes by code & 7, as quarter units: 0, 2, 4, 6, 8, 12, 16, 24.
  const uint32_t quarters[8] = {0, 2, 4, 6, 8, 12, 16, 24};
  const float magnitude = static_cast<float>(quarters[code & 7u]) * 0.25f;
  return (code & 0x8u) ? -magnitude : magnitude;
}

}  // namespace qfp8
