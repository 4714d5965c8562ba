// checked_math.hpp — 64-bit unsigned products and sums that report overflow, in standard
// C++ (GCC's __builtin_mul_overflow is not in MSVC, which the Windows CUDA build uses).
// Unsigned arithmetic wraps: the wrapped result tells.
#pragma once

#include <cstdint>

namespace qfp8 {

/// *out = a * b; true when the product does not fit in 64 bits.
inline bool mul_overflow(uint64_t a, uint64_t b, uint64_t* out) {
  *out = a * b;
  return a != 0 && *out / a != b;
}

/// *out = a + b; true when the sum does not fit in 64 bits.
inline bool add_overflow(uint64_t a, uint64_t b, uint64_t* out) {
  *out = a + b;
  return *out < a;
}

}  // namespace qfp8
