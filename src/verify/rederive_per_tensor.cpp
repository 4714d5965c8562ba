// rederive_per_tensor.cpp — verify --against for the per-tensor FP8 formats (float8_e4m3fn,
// float8_e5m2, docs/format.md#numerics, #numerics-e5m2): every code re-derived as the
// format's saturating cast of w / scale, the quality from the output's codes and scale.
#include <array>
#include <vector>

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

/// What each element needs besides its own bits: its re-derived code, and the output code's
/// dequantized value. A 16-bit source has only 65536 values, so their codes are tabulated
/// once per layer (each entry is the format's cast, as for a single element); F32 is cast
/// element by element. The 256 dequantized values are tabulated for every source.
template <class Codes, class E>
class ElementCodes {
 public:
  ElementCodes(float derive_scale, float written_scale) : derive_scale_(derive_scale) {
    // The code's value times the scale: exact in double (4 + 24 significant bits).
    for (uint32_t code = 0; code < 256; ++code) {
      dequantized_[code] = static_cast<double>(Codes::decode(static_cast<uint8_t>(code))) *
                           static_cast<double>(written_scale);
    }
    if constexpr (kTabulated) {
      codes_.resize(uint32_t{1} << 16);
      for (uint32_t bits = 0; bits < codes_.size(); ++bits) {
        codes_[bits] = Codes::quantize(E::widen(static_cast<typename E::Bits>(bits)), derive_scale);
      }
    }
  }

  uint8_t code(typename E::Bits bits, float w) const {
    if constexpr (kTabulated) {
      (void)w;
      return codes_[bits];
    } else {
      (void)bits;
      return Codes::quantize(w, derive_scale_);
    }
  }
  double dequantized(uint8_t code) const { return dequantized_[code]; }

 private:
  static constexpr bool kTabulated = sizeof(typename E::Bits) == 2;
  float derive_scale_;
  std::array<double, 256> dequantized_{};
  std::vector<uint8_t> codes_;
};

template <class Codes, class E>
LayerScan scan_codes(const uint8_t* source, const uint8_t* codes, uint64_t numel,
                     float derive_scale, float written_scale, unsigned threads) {
  const ElementCodes<Codes, E> table(derive_scale, written_scale);
  const auto partials = scan_chunks<LayerScan>(numel, threads, [&](uint64_t begin, uint64_t end) {
    LayerScan part;
    for (uint64_t i = begin; i < end; ++i) {
      const auto bits = E::load(source, i);
      if (E::magnitude(bits) > part.magnitude) part.magnitude = E::magnitude(bits);
      const float w = E::widen(bits);
      const uint8_t code = codes[i];
      const uint8_t want = table.code(bits, w);
      if (code != want) part.data.note(i, want, code);
      part.sums.add(w, table.dequantized(code), (code & 0x7Fu) == 0,
                    (code & 0x7Fu) == Codes::kMaxCode);
    }
    return part;
  });
  LayerScan total;
  for (const auto& part : partials) total.merge(part);
  return total;
}

}  // namespace

LayerScan scan_per_tensor_layer(QuantFormat format, Dtype dtype, const uint8_t* source,
                                const uint8_t* codes, uint64_t numel, float derive_scale,
                                float written_scale, unsigned threads) {
  return visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    if (format == QuantFormat::Float8E5m2) {
      return scan_codes<E5m2Codes, E>(source, codes, numel, derive_scale, written_scale, threads);
    }
    return scan_codes<E4m3fnCodes, E>(source, codes, numel, derive_scale, written_scale,
                                      threads);
  });
}

}  // namespace qfp8::verify
