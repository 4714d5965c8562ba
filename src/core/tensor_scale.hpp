// tensor_scale.hpp — the per-tensor scale of each format from the tensor's amax magnitude,
// for host and device alike (the CPU backend, the CUDA scale kernel and the reference twins):
// weight_scale of float8_e4m3fn (docs/format.md#numerics-scale) and float8_e5m2
// (#numerics-e5m2), weight_scale_2 of nvfp4 (#numerics-nvfp4); mxfp8 has none (0).
#pragma once

#include <cstdint>

#include "core/block_formats.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/fp8_e5m2.hpp"
#include "core/quant_format.hpp"

namespace qfp8 {

template <class E>
QFP8_HD float tensor_scale_of(QuantFormat format, uint32_t amax_magnitude) {
  switch (format) {
    case QuantFormat::Float8E4m3fn: return scale_from_amax(E::amax(amax_magnitude));
    case QuantFormat::Float8E5m2: return e5m2_scale_from_amax(E::amax(amax_magnitude));
    case QuantFormat::Nvfp4: return nvfp4_tensor_scale<E>(amax_magnitude);
    case QuantFormat::Mxfp8: break;
  }
  return 0.0f;
}

}  // namespace qfp8
