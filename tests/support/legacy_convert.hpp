// legacy_convert.hpp — shared by the [legacy], [prefix], [sources] and [dequantize]
// tests: a library-level convert into a file, and INDEPENDENT re-statements of the two
// number formats involved (E4M3FN decoding from its definition, float32 -> BF16 rounding
// by comparing the two neighbours in double), so expectations never come from src/.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "backends/cpu/backend_cpu.hpp"
#include "convert/pipeline.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/reader.hpp"
#include "support/safetensors_bytes.hpp"

namespace qfp8::test {

/// Converts `in` into `out` (replaced) with the CPU backend, as `convert` does.
inline ConversionPlan convert_file(const std::string& in, const std::string& out,
                                   const PlanOptions& options) {
  remove_path(out);
  const SafetensorsFile input(in);
  ConversionPlan plan = make_conversion_plan(input.header(), options, in);
  const auto backend = make_cpu_backend(1);
  convert_to_file(input, plan, *backend, out, OutputOptions{}, nullptr);
  return plan;
}

/// E4M3FN from its definition: 1 sign, 4 exponent bits (bias 7), 3 mantissa bits,
/// subnormals m * 2^-9, 0x7F/0xFF NaN.
inline double e4m3_value(uint8_t code) {
  const int exponent = (code >> 3) & 0xF;
  const int mantissa = code & 0x7;
  if (exponent == 0xF && mantissa == 0x7) return std::nan("");
  const double magnitude = exponent == 0 ? std::ldexp(mantissa, -9)
                                         : std::ldexp(1.0 + mantissa / 8.0, exponent - 7);
  return (code & 0x80) ? -magnitude : magnitude;
}

/// float32 -> BF16 round-to-nearest-even, by distance: the two BF16 neighbours of a finite
/// `value` are its truncation and the next BF16 away from zero; the nearer wins, a tie
/// goes to the one whose last bit is 0.
inline uint16_t bf16_nearest_even(float value) {
  const uint32_t low_bits = qfp8::float_bits(value) & 0xFFFF0000u;
  if (low_bits == qfp8::float_bits(value)) return static_cast<uint16_t>(low_bits >> 16);
  const uint32_t high_bits = low_bits + 0x10000u;
  const double low = qfp8::float_from_bits(low_bits);
  const double high = (high_bits & 0x7F800000u) == 0x7F800000u
                          ? std::copysign(std::ldexp(1.0, 128), value)  // rounds to Inf
                          : static_cast<double>(qfp8::float_from_bits(high_bits));
  const double d_low = std::fabs(static_cast<double>(value) - low);
  const double d_high = std::fabs(high - static_cast<double>(value));
  if (d_low < d_high) return static_cast<uint16_t>(low_bits >> 16);
  if (d_high < d_low) return static_cast<uint16_t>(high_bits >> 16);
  return static_cast<uint16_t>(((low_bits >> 16) & 1u) == 0 ? low_bits >> 16 : high_bits >> 16);
}

/// Little-endian u16 / f32 at element `index` of a tensor's bytes.
inline uint16_t u16_at(const uint8_t* data, uint64_t index) {
  return static_cast<uint16_t>(data[2 * index] | (data[2 * index + 1] << 8));
}

inline float f32_at(const uint8_t* data, uint64_t index) {
  uint32_t bits = 0;
  for (int k = 3; k >= 0; --k) bits = (bits << 8) | data[4 * index + static_cast<uint64_t>(k)];
  return qfp8::float_from_bits(bits);
}

/// IEEE binary16 bits of a value exactly representable in it (test data only): sign,
/// exponent and mantissa found with frexp, so the decode in src/ is not reused.
inline uint16_t f16_exact_bits(float value) {
  if (value == 0.0f) return std::signbit(value) ? 0x8000 : 0;
  const uint16_t sign = value < 0 ? 0x8000 : 0;
  int exponent = 0;
  const double fraction = std::frexp(std::fabs(static_cast<double>(value)), &exponent);  // [0.5,1)
  const int biased = exponent - 1 + 15;
  if (biased <= 0) {  // subnormal: value = m * 2^-24
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::ldexp(std::fabs(value), 24)));
  }
  const auto mantissa = static_cast<uint16_t>(std::ldexp(fraction * 2.0 - 1.0, 10));
  return static_cast<uint16_t>(sign | (biased << 10) | mantissa);
}

}  // namespace qfp8::test
