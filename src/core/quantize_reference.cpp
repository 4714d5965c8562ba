// quantize_reference.cpp — the plain scalar twins of docs/format.md#numerics: one element at a
// time, no tables, no threads, written once over the element traits. Every faster path is
// tested byte for byte against these.
#include "core/quantize_reference.hpp"

#include "core/element_traits.hpp"
#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {

uint32_t absmax_magnitude_reference(Dtype dtype, const uint8_t* source, uint64_t numel) {
  return visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    uint32_t amax = 0;
    for (uint64_t i = 0; i < numel; ++i) {
      const uint32_t magnitude = E::magnitude(E::load(source, i));
      if (magnitude > amax) amax = magnitude;
    }
    return amax;
  });
}

bool magnitude_is_nonfinite(Dtype dtype, uint32_t magnitude) {
  return visit_element_type(
      dtype, [&](auto element) { return decltype(element)::is_nonfinite(magnitude); });
}

float amax_from_magnitude(Dtype dtype, uint32_t magnitude) {
  return visit_element_type(dtype,
                            [&](auto element) { return decltype(element)::amax(magnitude); });
}

float load_as_f32(Dtype dtype, const uint8_t* source, uint64_t index) {
  return visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    return E::widen(E::load(source, index));
  });
}

void quantize_reference(Dtype dtype, const uint8_t* source, uint64_t numel, float scale,
                        uint8_t* out) {
  visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    for (uint64_t i = 0; i < numel; ++i) {
      out[i] = quantize_e4m3fn(E::widen(E::load(source, i)), scale);
    }
  });
}

}  // namespace qfp8
