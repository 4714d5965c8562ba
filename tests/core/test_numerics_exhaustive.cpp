// test_numerics_exhaustive.cpp — every BF16 and F16 bit pattern through the docs/format.md#numerics
// rule, against the independent oracle of support/numerics_oracle.hpp, for hundreds of scales.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/fp8_e4m3fn.hpp"
#include "support/numerics_oracle.hpp"

using qfp8_test::E4m3Oracle;

namespace {

float bf16_as_float(uint16_t bits) { return static_cast<float>(qfp8_test::bf16_definition(bits)); }
float f16_as_float(uint16_t bits) { return static_cast<float>(qfp8_test::f16_definition(bits)); }

// amax values: every BF16 mantissa at exponents 0 ([1, 2)) and -10 ([2^-10, 2^-9)), zero,
// the smallest BF16 subnormal and a huge value near the top of float32.
std::vector<float> sweep_amaxes() {
  std::vector<float> amaxes;
  for (uint16_t mantissa = 0; mantissa < 128; ++mantissa) {
    amaxes.push_back(bf16_as_float(static_cast<uint16_t>(0x3F80 | mantissa)));
    amaxes.push_back(bf16_as_float(static_cast<uint16_t>(0x3A80 | mantissa)));
  }
  amaxes.push_back(0.0f);
  amaxes.push_back(bf16_as_float(0x0001));  // 2^-133
  amaxes.push_back(3e38f);
  return amaxes;
}

struct SweepResult {
  uint64_t checked = 0;
  uint64_t mismatches = 0;
  uint16_t first_bits = 0;
  float first_scale = 0.0f;
};

// Every finite pattern of a 16-bit format, for one scale.
template <typename Decode>
void sweep_patterns(Decode decode, uint16_t nonfinite_exponent_mask, float scale,
                    const E4m3Oracle& oracle, SweepResult& result) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const auto pattern = static_cast<uint16_t>(bits);
    if ((pattern & nonfinite_exponent_mask) == nonfinite_exponent_mask) continue;
    const float weight = decode(pattern);
    // docs/format.md#numerics-cast: the IEEE float32 division is the definition.
    const float x = weight / scale;
    const uint8_t expected = oracle.cast(x);
    ++result.checked;
    if (qfp8::quantize_e4m3fn(weight, scale) != expected) {
      if (result.mismatches++ == 0) {
        result.first_bits = pattern;
        result.first_scale = scale;
      }
    }
  }
}

}  // namespace

TEST_CASE("the test oracle agrees with hand-checked codes", "[numerics]") {
  // Guards the oracle itself, from the format definition worked by hand.
  const E4m3Oracle oracle;
  CHECK(oracle.value(0x7E) == 448.0);
  CHECK(oracle.value(0x01) == 0.001953125);
  CHECK(oracle.value(0x38) == 1.0);
  CHECK(oracle.cast(1.0625) == 0x38);        // tie between 1 and 1.125: even code
  CHECK(oracle.cast(1.1875) == 0x3A);        // tie between 1.125 and 1.25: even code
  CHECK(oracle.cast(1.07) == 0x39);
  CHECK(oracle.cast(0.0009765625) == 0x00);  // 2^-10: tie with 2^-9, even is zero
  CHECK(oracle.cast(0.00098) == 0x01);
  CHECK(oracle.cast(-0.0) == 0x80);
  CHECK(oracle.cast(463.9) == 0x7E);
  CHECK(oracle.cast(-1e9) == 0xFE);
  CHECK(oracle.cast(-3.0) == 0xC4);
}

TEST_CASE("scale_from_amax is amax / 448, and 1 for zero", "[numerics]") {
  for (const float amax : sweep_amaxes()) {
    const float expected = amax == 0.0f ? 1.0f : amax / 448.0f;  // no sweep amax underflows
    CHECK(qfp8::float_bits(qfp8::scale_from_amax(amax)) == qfp8::float_bits(expected));
  }
  CHECK(qfp8::scale_from_amax(0.0f) == 1.0f);
  CHECK(qfp8::scale_from_amax(448.0f) == 1.0f);
  CHECK(qfp8::scale_from_amax(896.0f) == 2.0f);
  // 1e-44 / 448 underflows to 0 in float32: a zero scale would make 0/0 NaN codes.
  CHECK(qfp8::scale_from_amax(1e-44f) == 1.0f);
  CHECK(qfp8::scale_from_amax(1e-40f) > 0.0f);
}

TEST_CASE("all BF16 patterns x 259 scales match the oracle", "[numerics][slow]") {
  const E4m3Oracle oracle;
  SweepResult result;
  for (const float amax : sweep_amaxes()) {
    sweep_patterns(bf16_as_float, 0x7F80, qfp8_test::spec_scale(amax), oracle, result);
  }
  INFO("first mismatch: bf16 0x" << std::hex << result.first_bits << " scale "
                                 << result.first_scale);
  CHECK(result.checked == uint64_t{259} * (65536 - 2 * 128));
  CHECK(result.mismatches == 0);
}

TEST_CASE("all F16 patterns x a few scales match the oracle", "[numerics][slow]") {
  const E4m3Oracle oracle;
  // F16 amaxes: zero, the smallest subnormal 2^-24, 1/448-ish, one, an odd mantissa, the
  // F16 maximum 65504, plus a scale below one and huge scale.
  const float amaxes[] = {0.0f,  5.9604645e-08f, 0.00223f, 1.0f,   1.3330078f,
                          448.0f, 465.5f,        65504.0f, 0.125f, 3e38f};
  SweepResult result;
  for (const float amax : amaxes) {
    sweep_patterns(f16_as_float, 0x7C00, qfp8_test::spec_scale(amax), oracle, result);
  }
  INFO("first mismatch: f16 0x" << std::hex << result.first_bits << " scale "
                                << result.first_scale);
  CHECK(result.checked == uint64_t{10} * (65536 - 2 * 1024));
  CHECK(result.mismatches == 0);
}

TEST_CASE("non-finite 16-bit inputs give saturated or NaN codes", "[numerics]") {
  for (const float scale : {1.0f, 0.5f, 3.0e-3f}) {
    CHECK(qfp8::quantize_e4m3fn(bf16_as_float(0x7F80), scale) == 0x7E);   // +Inf
    CHECK(qfp8::quantize_e4m3fn(bf16_as_float(0xFF80), scale) == 0xFE);   // -Inf
    CHECK(qfp8::quantize_e4m3fn(bf16_as_float(0x7FC0), scale) == 0x7F);   // NaN
    CHECK(qfp8::quantize_e4m3fn(bf16_as_float(0xFFC1), scale) == 0x7F);   // -NaN: canonical
    CHECK(qfp8::quantize_e4m3fn(f16_as_float(0x7C00), scale) == 0x7E);
    CHECK(qfp8::quantize_e4m3fn(f16_as_float(0xFC00), scale) == 0xFE);
    CHECK(qfp8::quantize_e4m3fn(f16_as_float(0x7E00), scale) == 0x7F);
  }
}

TEST_CASE("BF16 and F16 widening equals the format definitions", "[numerics]") {
  uint32_t wrong_bf16 = 0;
  uint32_t wrong_f16 = 0;
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const auto pattern = static_cast<uint16_t>(bits);
    const double bf16 = qfp8_test::bf16_definition(pattern);
    const double f16 = qfp8_test::f16_definition(pattern);
    const double got_bf16 = qfp8::bf16_to_f32(pattern);
    const double got_f16 = qfp8::f16_to_f32(pattern);
    if (std::isnan(bf16) ? !std::isnan(got_bf16)
                         : (got_bf16 != bf16 || std::signbit(got_bf16) != std::signbit(bf16))) {
      ++wrong_bf16;
    }
    if (std::isnan(f16) ? !std::isnan(got_f16)
                        : (got_f16 != f16 || std::signbit(got_f16) != std::signbit(f16))) {
      ++wrong_f16;
    }
  }
  CHECK(wrong_bf16 == 0);
  CHECK(wrong_f16 == 0);
}

TEST_CASE("e4m3fn_to_f32 decodes all 256 codes as the format defines", "[numerics]") {
  for (int code = 0; code < 256; ++code) {
    INFO("code " << code);
    const float value = qfp8::e4m3fn_to_f32(static_cast<uint8_t>(code));
    const int magnitude = code & 0x7F;
    if (magnitude == 0x7F) {
      CHECK(std::isnan(value));
      continue;
    }
    const double expected = (code & 0x80 ? -1.0 : 1.0) * E4m3Oracle::decode_magnitude(magnitude);
    CHECK(static_cast<double>(value) == expected);
    CHECK(std::signbit(value) == ((code & 0x80) != 0));
    CHECK(qfp8::e4m3fn_from_f32(value) == code);
  }
  CHECK(qfp8::e4m3fn_to_f32(0x7E) == 448.0f);
  CHECK(qfp8::e4m3fn_to_f32(0x01) == 0.001953125f);  // 2^-9
  CHECK(qfp8::e4m3fn_to_f32(0x08) == 0.015625f);     // 2^-6, first normal
}
