// test_reciprocal_cast.cpp — e4m3fn_cast_operand() (core/fp8_e4m3fn.hpp), the guarded
// reciprocal the CUDA quantize kernel uses for BF16 and F16 sources, gives the code of the
// division rule (docs/format.md#numerics-cast) under every scale a BF16 or F16 amax gives, for
// every weight a tensor with that amax can hold: each format's 2^29 pairs of magnitudes
// (w <= amax). Negative weights follow by symmetry (IEEE products and quotients of -w are
// exactly the negated ones, the guard reads magnitudes, the cast copies the sign); they,
// Inf and NaN are in the arbitrary-scale case.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "core/fp8_e4m3fn.hpp"

namespace {

using qfp8::e4m3fn_cast_operand;
using qfp8::e4m3fn_from_f32;
using qfp8::e4m3fn_reciprocal_of_scale;
using qfp8::quantize_e4m3fn;

struct Tally {
  uint64_t checked = 0;
  uint64_t mismatches = 0;
  uint64_t by_product = 0;  // elements whose operand was the product, not the quotient
  uint64_t plain_product_differs = 0;  // pairs where an unguarded w * r gives another code
  uint32_t first_weight = 0;
  float first_scale = 0.0f;
};

/// The 16-bit weight patterns [0, end) under one scale.
template <class Widen>
void sweep_weights(Widen widen, float scale, uint32_t end, Tally& tally) {
  const float reciprocal = e4m3fn_reciprocal_of_scale(scale);
  for (uint32_t bits = 0; bits < end; ++bits) {
    const float weight = widen(static_cast<uint16_t>(bits));
    const float operand = e4m3fn_cast_operand(weight, scale, reciprocal);
    const uint8_t expected = quantize_e4m3fn(weight, scale);
    ++tally.checked;
    if (qfp8::float_bits(operand) == qfp8::float_bits(weight * reciprocal)) ++tally.by_product;
    if (e4m3fn_from_f32(weight * reciprocal) != expected) ++tally.plain_product_differs;
    if (e4m3fn_from_f32(operand) != expected && tally.mismatches++ == 0) {
      tally.first_weight = bits;
      tally.first_scale = scale;
    }
  }
}

/// Every finite amax magnitude of a 16-bit format (0 gives the scale 1) with the magnitudes up
/// to it, split over two threads; the tallies are summed.
template <class Widen>
Tally sweep_amaxes(Widen widen, uint32_t nonfinite_magnitude) {
  Tally halves[2];
  auto run = [&](uint32_t parity) {
    for (uint32_t amax = parity; amax < nonfinite_magnitude; amax += 2) {
      sweep_weights(widen, qfp8::scale_from_amax(widen(static_cast<uint16_t>(amax))), amax + 1,
                    halves[parity]);
    }
  };
  std::thread odd(run, 1u);
  run(0u);
  odd.join();
  Tally total = halves[0];
  total.checked += halves[1].checked;
  total.by_product += halves[1].by_product;
  total.plain_product_differs += halves[1].plain_product_differs;
  if (total.mismatches == 0) {
    total.first_weight = halves[1].first_weight;
    total.first_scale = halves[1].first_scale;
  }
  total.mismatches += halves[1].mismatches;
  return total;
}

void require_equal_codes(const Tally& tally, uint64_t amaxes) {
  const uint64_t expected_checked = amaxes * (amaxes + 1) / 2;
  INFO("first mismatch: weight bits 0x" << std::hex << tally.first_weight << std::dec
                                        << " scale " << tally.first_scale);
  CHECK(tally.checked == expected_checked);
  CHECK(tally.mismatches == 0);
  // The guard must not be a division in disguise: nearly every element takes the product
  // (99.0 % of the BF16 pairs, 97.2 % of the F16 ones; the rest are mostly E4M3 subnormals).
  CHECK(tally.by_product > tally.checked / 100 * 95);
  // And it must be needed: an unguarded product differs somewhere.
  CHECK(tally.plain_product_differs > 0);
}

}  // namespace

TEST_CASE("the guarded reciprocal gives the division's code for every BF16 amax and weight",
          "[numerics][slow]") {
  const Tally tally = sweep_amaxes(qfp8::bf16_to_f32, qfp8::kBf16NonFiniteMagnitude);
  require_equal_codes(tally, qfp8::kBf16NonFiniteMagnitude);
}

TEST_CASE("the guarded reciprocal gives the division's code for every F16 amax and weight",
          "[numerics][slow]") {
  const Tally tally = sweep_amaxes(qfp8::f16_to_f32, qfp8::kF16NonFiniteMagnitude);
  require_equal_codes(tally, qfp8::kF16NonFiniteMagnitude);
}

TEST_CASE("the guarded reciprocal gives the division's code under arbitrary scales",
          "[numerics]") {
  // Scales no amax gives (any exponent, subnormal scales included) and random F32 weights:
  // the guard's bound does not depend on where the scale came from.
  std::mt19937 random(7);
  Tally tally;
  for (int s = 0; s < 256; ++s) {
    const float scale = qfp8::float_from_bits(static_cast<uint32_t>(random()) & 0x7F7FFFFFu);
    if (scale == 0.0f) continue;
    sweep_weights(qfp8::bf16_to_f32, scale, 65536, tally);
    const float reciprocal = e4m3fn_reciprocal_of_scale(scale);
    for (int w = 0; w < 4096; ++w) {
      const float weight = qfp8::float_from_bits(static_cast<uint32_t>(random()));
      ++tally.checked;
      if (e4m3fn_from_f32(e4m3fn_cast_operand(weight, scale, reciprocal)) !=
              quantize_e4m3fn(weight, scale) &&
          tally.mismatches++ == 0) {
        tally.first_weight = qfp8::float_bits(weight);
        tally.first_scale = scale;
      }
    }
  }
  INFO("first mismatch: weight bits 0x" << std::hex << tally.first_weight << std::dec
                                        << " scale " << tally.first_scale);
  CHECK(tally.checked > 256 * 65536 / 2);
  CHECK(tally.mismatches == 0);
}

TEST_CASE("the reciprocal of a subnormal scale is refused: every element divides",
          "[numerics]") {
  const float subnormal_scale = qfp8::float_from_bits(0x00000100u);  // 2^-141
  CHECK(e4m3fn_reciprocal_of_scale(subnormal_scale) == 0.0f);
  const float weight = qfp8::float_from_bits(0x00010000u);
  CHECK(qfp8::float_bits(e4m3fn_cast_operand(weight, subnormal_scale, 0.0f)) ==
        qfp8::float_bits(weight / subnormal_scale));
  CHECK(e4m3fn_reciprocal_of_scale(0.5f) == 2.0f);
  CHECK(e4m3fn_reciprocal_of_scale(3.0e38f) == 0.0f);  // 1 / 3e38 is subnormal: refused too
}
