// synth_values.hpp — deterministic, platform-independent BF16 values for synthetic
// checkpoints. Counter-based: element i of a tensor is a pure function of (seed, tensor
// base name, i), so values do not depend on chunk sizes, threads, the --prefix or the
// number of blocks, and are the same with every compiler and C++ library (no
// std::normal_distribution, no libm calls).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "synth/synth_tensor.hpp"

namespace qfp8 {

// Standard deviations of the generated values.
inline constexpr float kSynthWeightSigma = 0.02f;
inline constexpr float kSynthBiasSigma = 0.002f;
inline constexpr float kSynthNormSigma = 0.1f;  // around a mean of 1.0
// Outliers are 20x the weight sigma and beyond: 20 * sigma * (1 + |z|).
inline constexpr float kSynthOutlierFactor = 20.0f;
// Each element draws a 16-bit event number: 0..6 make an outlier (7 in 65536, ~1.1e-4;
// weights only), 7 a BF16 subnormal (~1.5e-5; weights and biases).
inline constexpr uint32_t kSynthOutlierEvents = 7;
inline constexpr uint32_t kSynthSubnormalEvent = 7;

/// splitmix64's output function: a bijective 64-bit mixer.
uint64_t splitmix64_mix(uint64_t value) noexcept;

/// The key of one tensor's value stream.
uint64_t synth_stream_key(uint64_t seed, std::string_view base_name) noexcept;

/// float -> BF16 bits, round to nearest even (finite inputs).
uint16_t bf16_from_f32_rne(float value) noexcept;

/// Writes elements [first_index, first_index + count) of the tensor with stream `key` as
/// BF16 bits.
void synth_bf16_values(SynthKind kind, uint64_t key, uint64_t first_index, uint16_t* out,
                       std::size_t count) noexcept;

}  // namespace qfp8
