// rederive_per_tensor.cpp — verify --against for the per-tensor FP8 formats (float8_e4m3fn,
// float8_e5m2, docs/format.md#numerics, #numerics-e5m2): every code re-derived as the
// format's saturating cast of w / scale, the quality from the output's codes and scale.
#include <array>
#include <limits>
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
  static bool is_nonfinite(uint8_t code) { return e4m3fn_is_nan(code); }
  static constexpr uint8_t kMaxCode = kE4M3MaxCode;
};

struct E5m2Codes {
  static uint8_t quantize(float w, float scale) { return quantize_e5m2(w, scale); }
  static float decode(uint8_t code) { return e5m2_to_f32(code); }
  static bool is_nonfinite(uint8_t code) { return e5m2_is_nonfinite(code); }
  static constexpr uint8_t kMaxCode = kE5M2MaxCode;
};

/// The output code's dequantized value, for each of the 256 codes: the code's value times
/// the written scale, exact in double (4 + 24 significant bits).
template <class Codes>
std::array<double, 256> dequantized_values(float written_scale) {
  std::array<double, 256> values{};
  for (uint32_t code = 0; code < 256; ++code) {
    values[code] = static_cast<double>(Codes::decode(static_cast<uint8_t>(code))) *
                   static_cast<double>(written_scale);
  }
  return values;
}

bool is_zero_code(uint8_t code) { return (code & 0x7Fu) == 0; }  // ±0
template <class Codes>
bool is_max_code(uint8_t code) { return (code & 0x7Fu) == Codes::kMaxCode; }

/// An F32 source: every element cast, compared and measured on its own.
template <class Codes, class E>
LayerScan scan_each_element(const uint8_t* source, const uint8_t* codes, uint64_t numel,
                            float derive_scale, float written_scale, unsigned threads,
                            const Slabs& slabs) {
  const std::array<double, 256> dequantized = dequantized_values<Codes>(written_scale);
  const auto partials = scan_chunks<LayerScan>(numel, threads, [&](uint64_t begin, uint64_t end) {
    LayerScan part;
    for (uint64_t i = begin; i < end; ++i) {
      const auto bits = E::load(source, i);
      if (E::magnitude(bits) > part.magnitude) part.magnitude = E::magnitude(bits);
      const float w = E::widen(bits);
      const uint8_t code = codes[i];
      const uint8_t want = Codes::quantize(w, derive_scale);
      if (code != want) part.data.note(i, want, code);
      if (Codes::is_nonfinite(code)) part.nonfinite.note(i);
      part.sums.add(w, dequantized[code], is_zero_code(code), is_max_code<Codes>(code));
    }
    return part;
  }, slabs);
  LayerScan total;
  for (const auto& part : partials) total.merge(part);
  return total;
}

/// What a 16-bit source value's element is compared with on the fast path: the code cast
/// from it, or kSlowPath, which no code equals, where that cast is not finite (a NaN source).
/// So an element that passes holds a finite code, and every non-finite code is met one by one,
/// its index counted.
constexpr uint16_t kSlowPath = 0x100;

/// Counts into `counts` the elements from `begin` whose code is `fast[their source bits]`, up
/// to the first that is not; returns its index (`end` when none). The loop the whole scan's
/// time goes to, kept apart so that its pointers stay in registers.
template <class E, class Count>
uint64_t count_matching(const uint8_t* source, const uint8_t* codes, const uint16_t* fast,
                        Count* counts, uint64_t begin, uint64_t end) {
  for (uint64_t i = begin; i < end; ++i) {
    const auto bits = E::load(source, i);
    if (codes[i] != fast[bits]) return i;
    ++counts[bits];
  }
  return end;
}

/// A 16-bit source (BF16, F16): an element's re-derived code, its quality terms and its
/// magnitude depend only on its 16 bits and on its code, and a correct code is the one cast
/// from those bits. So the 65536 casts are tabulated once per layer (each the format's cast,
/// as for a single element), an element whose code is that one is only counted in its
/// worker's histogram of source bits, and the layer's sums are taken from the histogram, bin by
/// bin, each bin's terms times its count. The counts are exact integers: the sums do not depend
/// on which worker counted what. Any other element (a differing code, a non-finite one) is
/// noted and measured on its own, in its chunk's partial (merged in chunk order after the
/// histogram's sums). `Count` is 32 bits where the layer has fewer than 2^32 elements (no bin
/// can overflow; half the cache the histogram takes), else 64.
template <class Codes, class E, class Count>
LayerScan scan_by_histogram(const uint8_t* source, const uint8_t* codes, uint64_t numel,
                            float derive_scale, float written_scale, unsigned threads,
                            const Slabs& slabs) {
  constexpr std::size_t kValues = std::size_t{1} << 16;
  const std::array<double, 256> dequantized = dequantized_values<Codes>(written_scale);
  std::vector<uint8_t> cast(kValues);
  std::vector<uint16_t> fast(kValues);
  for (std::size_t bits = 0; bits < kValues; ++bits) {
    cast[bits] = Codes::quantize(E::widen(static_cast<typename E::Bits>(bits)), derive_scale);
    fast[bits] = Codes::is_nonfinite(cast[bits]) ? kSlowPath : cast[bits];
  }
  using Histogram = std::vector<Count>;
  const auto scan = scan_chunks_with_state<LayerScan, Histogram>(
      numel, threads, Histogram(kValues, 0),
      [&](Histogram& histogram, uint64_t begin, uint64_t end) {
        LayerScan part;
        for (uint64_t i = count_matching<E>(source, codes, fast.data(), histogram.data(), begin,
                                            end);
             i < end;
             i = count_matching<E>(source, codes, fast.data(), histogram.data(), i + 1, end)) {
          const auto bits = E::load(source, i);
          const uint8_t code = codes[i];
          if (code != cast[bits]) part.data.note(i, cast[bits], code);
          if (Codes::is_nonfinite(code)) part.nonfinite.note(i);
          if (E::magnitude(bits) > part.magnitude) part.magnitude = E::magnitude(bits);
          part.sums.add(E::widen(bits), dequantized[code], is_zero_code(code),
                        is_max_code<Codes>(code));
        }
        return part;
      },
      slabs);
  std::vector<uint64_t> counts(kValues, 0);
  for (const Histogram& worker : scan.states) {
    for (std::size_t bits = 0; bits < worker.size(); ++bits) counts[bits] += worker[bits];
  }
  LayerScan total;
  for (std::size_t bits = 0; bits < kValues; ++bits) {
    if (counts[bits] == 0) continue;
    const auto value = static_cast<typename E::Bits>(bits);
    if (E::magnitude(value) > total.magnitude) total.magnitude = E::magnitude(value);
    const uint8_t code = cast[bits];
    total.sums.add_times(E::widen(value), dequantized[code], is_zero_code(code),
                         is_max_code<Codes>(code), counts[bits]);
  }
  for (const auto& part : scan.partials) total.merge(part);
  return total;
}

template <class Codes, class E>
LayerScan scan_codes(const uint8_t* source, const uint8_t* codes, uint64_t numel,
                     float derive_scale, float written_scale, unsigned threads,
                     const Slabs& slabs) {
  if constexpr (sizeof(typename E::Bits) == 2) {
    if (numel <= std::numeric_limits<uint32_t>::max()) {
      return scan_by_histogram<Codes, E, uint32_t>(source, codes, numel, derive_scale,
                                                   written_scale, threads, slabs);
    }
    return scan_by_histogram<Codes, E, uint64_t>(source, codes, numel, derive_scale,
                                                 written_scale, threads, slabs);
  } else {
    return scan_each_element<Codes, E>(source, codes, numel, derive_scale, written_scale,
                                       threads, slabs);
  }
}

}  // namespace

LayerScan scan_per_tensor_layer(QuantFormat format, Dtype dtype, const uint8_t* source,
                                const uint8_t* codes, uint64_t numel, float derive_scale,
                                float written_scale, unsigned threads,
                                const Slabs& slabs) {
  return visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    if (format == QuantFormat::Float8E5m2) {
      return scan_codes<E5m2Codes, E>(source, codes, numel, derive_scale, written_scale,
                                      threads, slabs);
    }
    return scan_codes<E4m3fnCodes, E>(source, codes, numel, derive_scale, written_scale,
                                      threads, slabs);
  });
}

}  // namespace qfp8::verify
