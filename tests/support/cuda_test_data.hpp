// cuda_test_data.hpp — fixtures for the GPU tests, built in code: little-endian element
// buffers of random or chosen bit patterns, and the magnitude max computed the obvious way
// (independent of the code under test).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/dtype.hpp"

namespace qfp8::test {

inline std::size_t element_size(Dtype dtype) { return dtype == Dtype::F32 ? 4 : 2; }

inline void store_element(Dtype dtype, std::vector<uint8_t>& bytes, uint64_t index, uint32_t bits) {
  const std::size_t size = element_size(dtype);
  for (std::size_t b = 0; b < size; ++b) {
    bytes[index * size + b] = static_cast<uint8_t>((bits >> (8 * b)) & 0xFFu);
  }
}

inline uint32_t load_element(Dtype dtype, const std::vector<uint8_t>& bytes, uint64_t index) {
  const std::size_t size = element_size(dtype);
  uint32_t bits = 0;
  for (std::size_t b = 0; b < size; ++b) bits |= uint32_t{bytes[index * size + b]} << (8 * b);
  return bits;
}

/// Finite elements with exponents in a window around 1 (like trained weights), so the
/// casts land on many different FP8 codes.
inline std::vector<uint8_t> random_weights(Dtype dtype, uint64_t numel, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<uint8_t> bytes(numel * element_size(dtype));
  const uint32_t mantissa_bits = dtype == Dtype::F32 ? 23u : dtype == Dtype::F16 ? 10u : 7u;
  const uint32_t bias = dtype == Dtype::F16 ? 15u : 127u;
  const uint32_t sign_bit = dtype == Dtype::F32 ? 31u : 15u;
  for (uint64_t i = 0; i < numel; ++i) {
    const auto r = static_cast<uint32_t>(random());
    const uint32_t exponent = bias - 12u + r % 14u;
    const uint32_t mantissa = (r >> 4) & ((1u << mantissa_bits) - 1u);
    const uint32_t sign = ((r >> 30) & 1u) << sign_bit;
    store_element(dtype, bytes, i, sign | (exponent << mantissa_bits) | mantissa);
  }
  return bytes;
}

/// max(bits & ~sign) over the elements: the definition of the absmax
/// (docs/format.md#numerics-absmax).
inline uint32_t expected_absmax_bits(Dtype dtype, const std::vector<uint8_t>& bytes,
                                     uint64_t numel) {
  const uint32_t magnitude_mask = dtype == Dtype::F32 ? 0x7FFFFFFFu : 0x7FFFu;
  uint32_t result = 0;
  for (uint64_t i = 0; i < numel; ++i) {
    const uint32_t magnitude = load_element(dtype, bytes, i) & magnitude_mask;
    if (magnitude > result) result = magnitude;
  }
  return result;
}

}  // namespace qfp8::test
