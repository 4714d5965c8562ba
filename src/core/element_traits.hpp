// element_traits.hpp — the one table of what differs between the source dtypes the
// quantizer reads (BF16, F16, F32): element size, little-endian load, magnitude bits, exact
// widening to float32, amax from a magnitude, rounding a float32 back to the dtype, and the
// magnitude that marks Inf/NaN. Host
// and device (QFP8_HD): the CPU backend, the reference twins and the CUDA kernels are all
// written once over an element type E, and visit_element_type() is the one place that maps
// a runtime Dtype onto it and rejects every other dtype.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/float_rounding.hpp"
#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {

// Little-endian loads from any address. safetensors data is little-endian; on a
// little-endian machine (x86, ARM, every GPU) the memcpy is that one plain load, which the
// CPU loops need so that the compiler vectorises them. Elsewhere: assembled from bytes.
#if defined(__CUDA_ARCH__) || \
    (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
QFP8_HD uint16_t load_le16(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return bits;
}
QFP8_HD uint32_t load_le32(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return bits;
}
#else
QFP8_HD uint16_t load_le16(const uint8_t* p) {
  return static_cast<uint16_t>(uint32_t{p[0]} | (uint32_t{p[1]} << 8));
}
QFP8_HD uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
         (uint32_t{p[3]} << 24);
}
#endif

/// BF16: the top half of an F32 (8 exponent bits, 7 mantissa bits).
struct Bf16Element {
  using Bits = uint16_t;
  static constexpr Dtype kDtype = Dtype::BF16;
  static constexpr std::size_t kSize = sizeof(Bits);
  static constexpr uint32_t kNonFiniteMagnitude = kBf16NonFiniteMagnitude;
  static QFP8_HD Bits load(const uint8_t* bytes, uint64_t index) {
    return load_le16(bytes + kSize * index);
  }
  static QFP8_HD uint32_t magnitude(Bits bits) { return bf16_magnitude(bits); }
  static QFP8_HD float widen(Bits bits) { return bf16_to_f32(bits); }
  static QFP8_HD float amax(uint32_t magnitude) { return amax_from_bf16_magnitude(magnitude); }
  static QFP8_HD float round_to_source(float value) { return bf16_to_f32(f32_to_bf16_rne(value)); }
  static QFP8_HD bool is_nonfinite(uint32_t magnitude) { return magnitude >= kNonFiniteMagnitude; }
};

/// F16: IEEE binary16 (5 exponent bits, 10 mantissa bits).
struct F16Element {
  using Bits = uint16_t;
  static constexpr Dtype kDtype = Dtype::F16;
  static constexpr std::size_t kSize = sizeof(Bits);
  static constexpr uint32_t kNonFiniteMagnitude = kF16NonFiniteMagnitude;
  static QFP8_HD Bits load(const uint8_t* bytes, uint64_t index) {
    return load_le16(bytes + kSize * index);
  }
  static QFP8_HD uint32_t magnitude(Bits bits) { return f16_magnitude(bits); }
  static QFP8_HD float widen(Bits bits) { return f16_to_f32(bits); }
  static QFP8_HD float amax(uint32_t magnitude) { return amax_from_f16_magnitude(magnitude); }
  static QFP8_HD float round_to_source(float value) { return f16_to_f32(f32_to_f16_rne(value)); }
  static QFP8_HD bool is_nonfinite(uint32_t magnitude) { return magnitude >= kNonFiniteMagnitude; }
};

/// F32: IEEE binary32, widened as is.
struct F32Element {
  using Bits = uint32_t;
  static constexpr Dtype kDtype = Dtype::F32;
  static constexpr std::size_t kSize = sizeof(Bits);
  static constexpr uint32_t kNonFiniteMagnitude = kF32NonFiniteMagnitude;
  static QFP8_HD Bits load(const uint8_t* bytes, uint64_t index) {
    return load_le32(bytes + kSize * index);
  }
  static QFP8_HD uint32_t magnitude(Bits bits) { return f32_magnitude(bits); }
  static QFP8_HD float widen(Bits bits) { return float_from_bits(bits); }
  static QFP8_HD float amax(uint32_t magnitude) { return amax_from_f32_magnitude(magnitude); }
  static QFP8_HD float round_to_source(float value) { return value; }
  static QFP8_HD bool is_nonfinite(uint32_t magnitude) { return magnitude >= kNonFiniteMagnitude; }
};

/// The one error for a dtype the quantizer cannot read ("cannot quantize a I32 tensor:
/// only F16, BF16 and F32 sources are supported"), naming `tensor` when given. The plan
/// quantizes float tensors only, so this is a caller's broken promise, not bad input.
Error unsupported_source_error(Dtype dtype, const std::string& tensor = {});

/// Calls visit(Bf16Element{}), visit(F16Element{}) or visit(F32Element{}) for `dtype` and
/// returns its result; throws unsupported_source_error(dtype, tensor) for any other dtype.
template <class Visitor>
decltype(auto) visit_element_type(Dtype dtype, Visitor&& visit, const std::string& tensor = {}) {
  switch (dtype) {
    case Dtype::BF16: return visit(Bf16Element{});
    case Dtype::F16: return visit(F16Element{});
    case Dtype::F32: return visit(F32Element{});
    default: throw unsupported_source_error(dtype, tensor);
  }
}

/// The magnitude at and above which an element of `dtype` is Inf or NaN.
inline uint32_t nonfinite_magnitude(Dtype dtype) {
  return visit_element_type(
      dtype, [](auto element) { return decltype(element)::kNonFiniteMagnitude; });
}

}  // namespace qfp8
