// rederive_per_tensor.cpp — verify --against for the per-tensor FP8 formats (float8_e4m3fn,
// float8_e5m2, docs/format.md#numerics, #numerics-e5m2): every code re-derived as the
// format's saturating cast of w / scale, the quality from the output's codes and scale.
#include "core/element_traits.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/fp8_e5m2.hpp"
#include "verify/chunked_scan.hpp"
#include "verify/rederive.hpp"

namespace qfp8::verify {
namespace {

// What differs between the two per-tensor formats: the cast, the decoding, the code of the
// largest magnitude. Types, not function pointers, so the element loop inlines them.
struct E4m3fnCodes {
  static uint8_t quantize(float w, float scale) { return quantize_e4m3fn(w, scale); }
  static float decode(uint8_t code) { return e4m3fn_to_f32(code); }
  static constexpr uint8_t kMaxCode = kE4M3MaxCode;
};

struct E5m2Codes {
  static uint8_t quantize(float w, float scale) { return quantize_e5m2(w, scale); }
  static float decode(uint8_t code) { return e5m2_to_f32(code); }
  static constexpr uint8_t kMaxCode = kE5M2MaxCode;
};

template <class Codes, class E>
LayerScan scan_codes(const uint8_t* source, const uint8_t* codes, uint64_t numel,
                     float expected_scale, float actual_scale, unsigned threads) {
  const auto partials = scan_chunks<LayerScan>(numel, threads, [&](uint64_t begin, uint64_t end) {
    LayerScan part;
    for (uint64_t i = begin; i < end; ++i) {
      const float w = E::widen(E::load(source, i));
      const uint8_t code = codes[i];
      const uint8_t want = Codes::quantize(w, expected_scale);
      if (code != want) part.data.note(i, want, code);
      // The code's value times the scale: exact in double (4 + 24 significant bits).
      const double dequantized =
          static_cast<double>(Codes::decode(code)) * static_cast<double>(actual_scale);
      part.sums.add(w, dequantized, (code & 0x7Fu) == 0, (code & 0x7Fu) == Codes::kMaxCode);
    }
    return part;
  });
  LayerScan total;
  for (const auto& part : partials) total.merge(part);
  return total;
}

}  // namespace

LayerScan scan_per_tensor_layer(QuantFormat format, Dtype dtype, const uint8_t* source,
                                const uint8_t* codes, uint64_t numel, float expected_scale,
                                float actual_scale, unsigned threads) {
  return visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    if (format == QuantFormat::Float8E5m2) {
      return scan_codes<E5m2Codes, E>(source, codes, numel, expected_scale, actual_scale, threads);
    }
    return scan_codes<E4m3fnCodes, E>(source, codes, numel, expected_scale, actual_scale, threads);
  });
}

}  // namespace qfp8::verify
