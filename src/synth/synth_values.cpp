// synth_values.cpp — the value generator behind `qfp8-cuda synth`. Each element takes one
// splitmix64 hash of its index: three 16-bit uniforms summed (Irwin-Hall, a bounded
// approximation of a normal, exact in integers) and 16 bits that pick the rare events
// (outlier, subnormal). Each value is one float multiply of an exact integer, then BF16
// round-to-nearest-even, so no contraction or libm difference can change a bit.
#include "synth/synth_values.hpp"

#include "core/fp8_e4m3fn.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;  // splitmix64's increment
// Sum of three uniforms on [0, 65535], doubled and centred: 2*sum - 3*65535 has mean 0
// and a standard deviation of ~65536 (3 * 65536^2 / 12 * 4 = 65536^2), range ±196605.
constexpr int64_t kCentre = 3 * 65535;
constexpr float kUnit = 1.0f / 65536.0f;  // centred sum -> ~N(0, 1)
// The norm mean 1.0 in units of kNormSigma * kUnit: 65536 / 0.1.
constexpr int64_t kNormMeanUnits = 655360;
static_assert(kSynthNormSigma == 0.1f, "kNormMeanUnits assumes a norm sigma of 0.1");

struct Draw {
  int64_t centred;  // ~N(0, 65536^2)
  uint32_t event;   // uniform on [0, 65535]
  uint32_t low;     // the first uniform again: mantissa bits when the event is a subnormal
};

inline Draw draw(uint64_t key, uint64_t index) noexcept {
  const uint64_t h = splitmix64_mix(key + (index + 1) * kGolden);
  const int64_t sum = static_cast<int64_t>((h & 0xFFFFu) + ((h >> 16) & 0xFFFFu) + ((h >> 32) & 0xFFFFu));
  return Draw{2 * sum - kCentre, static_cast<uint32_t>(h >> 48), static_cast<uint32_t>(h & 0xFFFFu)};
}

inline uint16_t sign_bit(int64_t centred) noexcept { return centred < 0 ? 0x8000u : 0u; }

// A BF16 subnormal: exponent 0, mantissa 1..127.
inline uint16_t subnormal(const Draw& d) noexcept {
  return static_cast<uint16_t>(sign_bit(d.centred) | (1u + d.low % 127u));
}

inline uint16_t gaussian(const Draw& d, float factor) noexcept {
  return bf16_from_f32_rne(static_cast<float>(d.centred) * factor);
}

inline uint16_t linear_weight(const Draw& d) noexcept {
  if (d.event < kSynthOutlierEvents) {
    // |value| = 20 sigma (1 + |z|): 65536 + |centred| is exact in float (< 2^24).
    const int64_t magnitude = 65536 + (d.centred < 0 ? -d.centred : d.centred);
    const float factor = kSynthOutlierFactor * kSynthWeightSigma * kUnit;
    return static_cast<uint16_t>(sign_bit(d.centred) | bf16_from_f32_rne(static_cast<float>(magnitude) * factor));
  }
  if (d.event == kSynthSubnormalEvent) return subnormal(d);
  return gaussian(d, kSynthWeightSigma * kUnit);
}

inline uint16_t bias(const Draw& d) noexcept {
  if (d.event == kSynthSubnormalEvent) return subnormal(d);
  return gaussian(d, kSynthBiasSigma * kUnit);
}

inline uint16_t norm_weight(const Draw& d) noexcept {
  // 1 + sigma z = (65536 / sigma + centred) * (sigma / 65536): one multiply of an exact
  // integer (655360 ± 196605 < 2^24).
  const int64_t shifted = kNormMeanUnits + d.centred;
  return bf16_from_f32_rne(static_cast<float>(shifted) * (kSynthNormSigma * kUnit));
}

}  // namespace

uint64_t splitmix64_mix(uint64_t value) noexcept {
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

uint64_t synth_stream_key(uint64_t seed, std::string_view base_name) noexcept {
  // FNV-1a over the name, then mixed with the mixed seed.
  uint64_t hash = 0xCBF29CE484222325ull;
  for (char c : base_name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001B3ull;
  }
  return splitmix64_mix(hash ^ splitmix64_mix(seed + kGolden));
}

uint16_t bf16_from_f32_rne(float value) noexcept {
  const uint32_t bits = float_bits(value);
  return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

void synth_bf16_values(SynthKind kind, uint64_t key, uint64_t first_index, uint16_t* out,
                       std::size_t count) noexcept {
  switch (kind) {
    case SynthKind::LinearWeight:
      for (std::size_t i = 0; i < count; ++i) out[i] = linear_weight(draw(key, first_index + i));
      return;
    case SynthKind::Bias:
      for (std::size_t i = 0; i < count; ++i) out[i] = bias(draw(key, first_index + i));
      return;
    case SynthKind::NormWeight:
      for (std::size_t i = 0; i < count; ++i) out[i] = norm_weight(draw(key, first_index + i));
      return;
    case SynthKind::Zero:
      for (std::size_t i = 0; i < count; ++i) out[i] = 0;
      return;
  }
}

}  // namespace qfp8
