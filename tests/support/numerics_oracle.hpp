// numerics_oracle.hpp — an independent E4M3FN reference for the tests, written from
// the format definition (docs/format.md#numerics-e4m3fn: 1 sign bit, 4 exponent bits with bias 7, 3
// mantissa bits, subnormals m * 2^-9, 0x7F/0xFF NaN, no infinities), in double and without any bit
// tricks: enumerate the 127 finite non-negative values and pick the nearest, ties to the even code.
// It shares no code with src/core/fp8_e4m3fn.hpp on purpose.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace qfp8_test {

class E4m3Oracle {
 public:
  E4m3Oracle() {
    for (int code = 0; code < kFiniteCodes; ++code) values_[code] = decode_magnitude(code);
  }

  /// The value of a finite non-negative code (0..0x7E), from the definition.
  static double decode_magnitude(int code) {
    const int exponent = code >> 3;
    const int mantissa = code & 7;
    if (exponent == 0) return std::ldexp(mantissa, -9);
    return std::ldexp(1.0 + mantissa / 8.0, exponent - 7);
  }

  double value(int code) const { return values_[code]; }

  /// Round-to-nearest-even cast with saturation to ±448; x must not be NaN.
  uint8_t cast(double x) const {
    const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
    const double a = std::fabs(x);
    if (a >= 448.0) return static_cast<uint8_t>(sign | 0x7E);
    // First value above a; values_[0] == 0 <= a and values_[126] == 448 > a.
    const auto above = std::upper_bound(values_.begin(), values_.end(), a);
    const int hi = static_cast<int>(above - values_.begin());
    const int lo = hi - 1;
    const double below_distance = a - values_[lo];  // exact: both fit in 53 bits
    const double above_distance = values_[hi] - a;
    int code = lo;
    if (above_distance < below_distance || (above_distance == below_distance && (lo & 1))) {
      code = hi;
    }
    return static_cast<uint8_t>(sign | code);
  }

  static constexpr int kFiniteCodes = 127;

 private:
  std::array<double, kFiniteCodes> values_{};
};

/// BF16 value from its definition: sign, 8-bit exponent (bias 127), 7-bit mantissa.
inline double bf16_definition(uint16_t bits) {
  const double sign = (bits & 0x8000) ? -1.0 : 1.0;
  const int exponent = (bits >> 7) & 0xFF;
  const int mantissa = bits & 0x7F;
  if (exponent == 0xFF) return mantissa ? std::nan("") : sign * HUGE_VAL;
  if (exponent == 0) return sign * std::ldexp(mantissa, -133);
  return sign * std::ldexp(1.0 + mantissa / 128.0, exponent - 127);
}

/// F16 value from its definition: sign, 5-bit exponent (bias 15), 10-bit mantissa.
inline double f16_definition(uint16_t bits) {
  const double sign = (bits & 0x8000) ? -1.0 : 1.0;
  const int exponent = (bits >> 10) & 0x1F;
  const int mantissa = bits & 0x3FF;
  if (exponent == 0x1F) return mantissa ? std::nan("") : sign * HUGE_VAL;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
}

/// Test-side scale rule (docs/format.md#numerics-scale), written out independently.
// docs/format.md#numerics-scale: amax / 448, and 1 when that is zero (all-zero tensor, or an F32
// amax so tiny that the division underflows; see docs/numerics.md).
inline float spec_scale(float amax) {
  const float scale = amax / 448.0f;
  return scale == 0.0f ? 1.0f : scale;
}

}  // namespace qfp8_test
