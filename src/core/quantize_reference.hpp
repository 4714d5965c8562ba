// quantize_reference.hpp — the plain scalar twins (docs/format.md#numerics): the definition every
// other path (threaded CPU backend, CUDA kernels, verify --against) is tested against byte for
// byte. Single-threaded, obvious, no tables.
#pragma once

#include <cstdint>

#include "core/dtype.hpp"

namespace qfp8 {

/// Integer max of the elements' magnitude bits (sign cleared) for F16/BF16/F32 `source`
/// (little-endian, any alignment). 0 for an empty tensor.
uint32_t absmax_magnitude_reference(Dtype dtype, const uint8_t* source, uint64_t numel);

/// True when the magnitude marks an Inf or NaN for this dtype.
bool magnitude_is_nonfinite(Dtype dtype, uint32_t magnitude);

/// amax as float32 from the magnitude bits (exact widening).
float amax_from_magnitude(Dtype dtype, uint32_t magnitude);

/// Element `index` of a little-endian F16/BF16/F32 `source` (any alignment) widened to
/// float32 (exact). Loops should rather visit_element_type() once (core/element_traits.hpp).
float load_as_f32(Dtype dtype, const uint8_t* source, uint64_t index);

/// out[i] = quantize_e4m3fn(element i, scale) for i < numel.
void quantize_reference(Dtype dtype, const uint8_t* source, uint64_t numel, float scale,
                        uint8_t* out);

}  // namespace qfp8
