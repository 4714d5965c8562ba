// cpu_cast.cpp — the CPU hot loops, written once over the element traits
// (core/element_traits.hpp). Loads are E::load (one plain load after optimisation, any
// alignment) and the loops have no calls and no data-dependent control flow beyond the
// cast itself, so the compiler can unroll and vectorise them.
#include "backends/cpu/cpu_cast.hpp"

#include <string>

#include "core/element_traits.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/fp8_e5m2.hpp"
#include "core/quantize_reference.hpp"

namespace qfp8 {
namespace {

// The max stays in the element's own width: BF16 and F16 magnitudes fit 16 bits, so 8 of
// them share an SSE register where 32-bit lanes would hold 4.
template <class E>
typename E::Bits absmax_scalar(const uint8_t* source, uint64_t count) {
  using Bits = typename E::Bits;
  Bits amax = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const auto magnitude = static_cast<Bits>(E::magnitude(E::load(source, i)));
    amax = magnitude > amax ? magnitude : amax;
  }
  return amax;
}

// Blocks of 32 bytes of independent lanes (16 BF16/F16 or 8 F32 elements) let the
// compiler use packed max even at -O2. The tail is a separate call so the blocked loop
// stays simple.
template <class E>
uint32_t absmax(const uint8_t* source, uint64_t count) {
  using Bits = typename E::Bits;
  constexpr uint64_t kLanes = 32 / sizeof(Bits);
  Bits lanes[kLanes] = {};
  const uint64_t blocked = count / kLanes * kLanes;
  for (uint64_t i = 0; i < blocked; i += kLanes) {
    for (uint64_t k = 0; k < kLanes; ++k) {
      const auto magnitude = static_cast<Bits>(E::magnitude(E::load(source, i + k)));
      lanes[k] = magnitude > lanes[k] ? magnitude : lanes[k];
    }
  }
  Bits amax = absmax_scalar<E>(source + E::kSize * blocked, count - blocked);
  for (const Bits lane : lanes) amax = lane > amax ? lane : amax;
  return amax;
}

// Only the non-negative half is computed; see build_code_table() in the header.
template <class E>
void fill_code_table(QuantFormat format, float scale, uint32_t max_magnitude, uint8_t* table) {
  const uint32_t last = max_magnitude < 0x7FFFu ? max_magnitude : 0x7FFFu;
  const bool e5m2 = format == QuantFormat::Float8E5m2;
  for (uint32_t magnitude = 0; magnitude <= last; ++magnitude) {
    const float weight = E::widen(static_cast<uint16_t>(magnitude));
    const uint8_t code = e5m2 ? quantize_e5m2(weight, scale) : quantize_e4m3fn(weight, scale);
    table[magnitude] = code;
    table[magnitude | 0x8000u] = static_cast<uint8_t>(code | 0x80u);
  }
}

}  // namespace

uint32_t absmax_magnitude_fast(Dtype dtype, const uint8_t* source, uint64_t count) {
  return visit_element_type(dtype, [&](auto element) {
    return absmax<decltype(element)>(source, count);
  });
}

void build_code_table(QuantFormat format, Dtype dtype, float scale, uint32_t max_magnitude,
                      uint8_t* table) {
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    if constexpr (E::kSize == 2) {
      fill_code_table<E>(format, scale, max_magnitude, table);
    } else {
      throw Error(ErrorCode::Internal, "cannot build a code table for " +
                                              std::string(dtype_name(dtype)) +
                                              ": it has one entry per 16-bit pattern");
    }
  });
}

// The hottest loop of the CPU path is 24 bytes of code. Where it straddled a 64-byte line,
// bench_cpu_quantize ran about a fifth slower on one AMD EPYC thread with the very same
// instructions: starting the function on a line keeps the loop in one, whatever code the
// linker places before it.
#if defined(__GNUC__)
__attribute__((aligned(64)))
#endif
void cast_with_table(const uint8_t* table, const uint8_t* source, uint64_t count,
                     uint8_t* out) {
  for (uint64_t i = 0; i < count; ++i) out[i] = table[load_le16(source + 2 * i)];
}

// Without a code table (F32, or a tensor too small to pay for building one) there is
// nothing faster per element than the reference loop itself, so the direct path is that
// loop; the table path is the one checked against it.
void build_code_table(Dtype dtype, float scale, uint32_t max_magnitude, uint8_t* table) {
  build_code_table(QuantFormat::Float8E4m3fn, dtype, scale, max_magnitude, table);
}

void cast_direct(QuantFormat format, Dtype dtype, const uint8_t* source, uint64_t count,
                 float scale, uint8_t* out) {
  quantize_per_tensor_reference(format, dtype, source, count, scale, out);
}

void cast_direct(Dtype dtype, const uint8_t* source, uint64_t count, float scale,
                 uint8_t* out) {
  quantize_reference(dtype, source, count, scale, out);
}

}  // namespace qfp8
