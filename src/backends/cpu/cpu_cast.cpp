// cpu_cast.cpp — the CPU hot loops. Loads go through memcpy (any alignment; one plain load
// after optimisation) and the loops have no calls and no data-dependent control flow
// beyond the cast itself, so the compiler can unroll and vectorise them.
#include "backends/cpu/cpu_cast.hpp"

#include <cstring>
#include <string>

#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cpu_cast.cpp loads safetensors data (little-endian) with native loads"
#endif

namespace qfp8 {
namespace {

uint16_t load16(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return bits;
}

uint32_t load32(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return bits;
}

[[noreturn]] void throw_not_float(Dtype dtype) {
  throw Error(ErrorCode::Internal,
              "cannot quantize a " + std::string(dtype_name(dtype)) +
                  " tensor: only F16, BF16 and F32 sources are supported");
}

// F16 and BF16 magnitudes are both the low 15 bits, so one loop serves both. Blocks of 16
// independent lanes let the compiler use packed max even at -O2; 16-bit lanes hold 8 per
// SSE register. The tail is a separate call so the blocked loop stays simple.
uint16_t absmax16_scalar(const uint8_t* source, uint64_t count) {
  uint16_t amax = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const auto magnitude = static_cast<uint16_t>(load16(source + 2 * i) & 0x7FFFu);
    amax = magnitude > amax ? magnitude : amax;
  }
  return amax;
}

uint32_t absmax16(const uint8_t* source, uint64_t count) {
  constexpr uint64_t kLanes = 16;
  uint16_t lanes[kLanes] = {};
  const uint64_t blocked = count / kLanes * kLanes;
  for (uint64_t i = 0; i < blocked; i += kLanes) {
    uint16_t block[kLanes];
    std::memcpy(block, source + 2 * i, sizeof block);
    for (uint64_t k = 0; k < kLanes; ++k) {
      const auto magnitude = static_cast<uint16_t>(block[k] & 0x7FFFu);
      lanes[k] = magnitude > lanes[k] ? magnitude : lanes[k];
    }
  }
  uint16_t amax = absmax16_scalar(source + 2 * blocked, count - blocked);
  for (const uint16_t lane : lanes) amax = lane > amax ? lane : amax;
  return amax;
}

uint32_t absmax32_scalar(const uint8_t* source, uint64_t count) {
  uint32_t amax = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const uint32_t magnitude = f32_magnitude(load32(source + 4 * i));
    amax = magnitude > amax ? magnitude : amax;
  }
  return amax;
}

uint32_t absmax32(const uint8_t* source, uint64_t count) {
  constexpr uint64_t kLanes = 8;
  uint32_t lanes[kLanes] = {};
  const uint64_t blocked = count / kLanes * kLanes;
  for (uint64_t i = 0; i < blocked; i += kLanes) {
    uint32_t block[kLanes];
    std::memcpy(block, source + 4 * i, sizeof block);
    for (uint64_t k = 0; k < kLanes; ++k) {
      const uint32_t magnitude = f32_magnitude(block[k]);
      lanes[k] = magnitude > lanes[k] ? magnitude : lanes[k];
    }
  }
  uint32_t amax = absmax32_scalar(source + 4 * blocked, count - blocked);
  for (const uint32_t lane : lanes) amax = lane > amax ? lane : amax;
  return amax;
}

}  // namespace

uint32_t absmax_magnitude_fast(Dtype dtype, const uint8_t* source, uint64_t count) {
  switch (dtype) {
    case Dtype::BF16:
    case Dtype::F16: return absmax16(source, count);
    case Dtype::F32: return absmax32(source, count);
    default: throw_not_float(dtype);
  }
}

void build_code_table(Dtype dtype, float scale, uint32_t max_magnitude, uint8_t* table) {
  if (dtype != Dtype::BF16 && dtype != Dtype::F16) throw_not_float(dtype);
  const uint32_t last = max_magnitude < 0x7FFFu ? max_magnitude : 0x7FFFu;
  for (uint32_t magnitude = 0; magnitude <= last; ++magnitude) {
    const auto bits = static_cast<uint16_t>(magnitude);
    const float value = dtype == Dtype::BF16 ? bf16_to_f32(bits) : f16_to_f32(bits);
    const uint8_t code = quantize_e4m3fn(value, scale);
    table[magnitude] = code;
    table[magnitude | 0x8000u] = static_cast<uint8_t>(code | 0x80u);
  }
}

void cast_with_table(const uint8_t* table, const uint8_t* source, uint64_t count,
                     uint8_t* out) {
  for (uint64_t i = 0; i < count; ++i) out[i] = table[load16(source + 2 * i)];
}

void cast_direct(Dtype dtype, const uint8_t* source, uint64_t count, float scale,
                 uint8_t* out) {
  switch (dtype) {
    case Dtype::BF16:
      for (uint64_t i = 0; i < count; ++i) {
        out[i] = quantize_e4m3fn(bf16_to_f32(load16(source + 2 * i)), scale);
      }
      return;
    case Dtype::F16:
      for (uint64_t i = 0; i < count; ++i) {
        out[i] = quantize_e4m3fn(f16_to_f32(load16(source + 2 * i)), scale);
      }
      return;
    case Dtype::F32:
      for (uint64_t i = 0; i < count; ++i) {
        out[i] = quantize_e4m3fn(float_from_bits(load32(source + 4 * i)), scale);
      }
      return;
    default: throw_not_float(dtype);
  }
}

}  // namespace qfp8
