// bf16.hpp — F16/BF16/F32 tensors rounded to BF16 (round to nearest, ties to even, by
// core/float_rounding.hpp), shared by `convert --keep-dtype bf16` and `dequantize`.
#pragma once

#include <cstdint>

#include "core/dtype.hpp"
#include "core/element_traits.hpp"
#include "core/float_rounding.hpp"

namespace qfp8 {

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
