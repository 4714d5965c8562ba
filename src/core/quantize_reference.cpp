// quantize_reference.cpp — the plain scalar twins of docs/format.md#numerics: one element at a
// time, no tables, no threads. Every faster path is tested byte for byte against these.
#include "core/quantize_reference.hpp"

#include <string>

#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {
namespace {

// Assembled from bytes so the result is little-endian whatever the host and whatever
// the alignment of `p` (compilers turn this into one load on x86 and ARM).
uint16_t load_le16(const uint8_t* p) {
  return static_cast<uint16_t>(uint32_t{p[0]} | (uint32_t{p[1]} << 8));
}

uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
         (uint32_t{p[3]} << 24);
}

[[noreturn]] void throw_not_float(Dtype dtype) {
  throw Error(ErrorCode::Internal,
              "cannot quantize a " + std::string(dtype_name(dtype)) +
                  " tensor: only F16, BF16 and F32 sources are supported");
}

uint32_t element_magnitude(Dtype dtype, const uint8_t* source, uint64_t index) {
  switch (dtype) {
    case Dtype::BF16: return bf16_magnitude(load_le16(source + 2 * index));
    case Dtype::F16: return f16_magnitude(load_le16(source + 2 * index));
    case Dtype::F32: return f32_magnitude(load_le32(source + 4 * index));
    default: throw_not_float(dtype);
  }
}

}  // namespace

uint32_t absmax_magnitude_reference(Dtype dtype, const uint8_t* source, uint64_t numel) {
  if (!is_float_source(dtype)) throw_not_float(dtype);
  uint32_t amax = 0;
  for (uint64_t i = 0; i < numel; ++i) {
    const uint32_t magnitude = element_magnitude(dtype, source, i);
    if (magnitude > amax) amax = magnitude;
  }
  return amax;
}

bool magnitude_is_nonfinite(Dtype dtype, uint32_t magnitude) {
  switch (dtype) {
    case Dtype::BF16: return magnitude >= kBf16NonFiniteMagnitude;
    case Dtype::F16: return magnitude >= kF16NonFiniteMagnitude;
    case Dtype::F32: return magnitude >= kF32NonFiniteMagnitude;
    default: throw_not_float(dtype);
  }
}

float amax_from_magnitude(Dtype dtype, uint32_t magnitude) {
  switch (dtype) {
    case Dtype::BF16: return amax_from_bf16_magnitude(magnitude);
    case Dtype::F16: return amax_from_f16_magnitude(magnitude);
    case Dtype::F32: return amax_from_f32_magnitude(magnitude);
    default: throw_not_float(dtype);
  }
}

float load_as_f32(Dtype dtype, const uint8_t* source, uint64_t index) {
  switch (dtype) {
    case Dtype::BF16: return bf16_to_f32(load_le16(source + 2 * index));
    case Dtype::F16: return f16_to_f32(load_le16(source + 2 * index));
    case Dtype::F32: return float_from_bits(load_le32(source + 4 * index));
    default: throw_not_float(dtype);
  }
}

void quantize_reference(Dtype dtype, const uint8_t* source, uint64_t numel, float scale,
                        uint8_t* out) {
  if (!is_float_source(dtype)) throw_not_float(dtype);
  for (uint64_t i = 0; i < numel; ++i) {
    out[i] = quantize_e4m3fn(load_as_f32(dtype, source, i), scale);
  }
}

}  // namespace qfp8
