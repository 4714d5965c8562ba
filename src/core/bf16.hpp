// bf16.hpp — float32 -> BF16 rounding (round to nearest, ties to even), shared by
// `convert --keep-dtype bf16` and `dequantize`. Header-only, plain inline functions usable
// from host and device code; integer bit manipulation only, so the result does not depend
// on the FPU's rounding mode or on fast-math flags.
#pragma once

#include <cstdint>

#include "core/dtype.hpp"
#include "core/element_traits.hpp"
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

/// Converts `count` F16/BF16/F32 elements (little-endian, any alignment) to little-endian
/// BF16 bytes (`out`: 2 * count).
inline void convert_to_bf16(Dtype dtype, const uint8_t* in, uint64_t count, uint8_t* out) {
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    for (uint64_t i = 0; i < count; ++i) {
      const uint16_t bits = f32_to_bf16_rne(E::widen(E::load(in, i)));
      out[2 * i] = static_cast<uint8_t>(bits & 0xFFu);
      out[2 * i + 1] = static_cast<uint8_t>(bits >> 8);
    }
  });
}

}  // namespace qfp8
