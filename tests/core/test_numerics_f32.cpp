// test_numerics_f32.cpp — the cast of F32 values (millions of random ones and every
// rounding boundary) against the independent oracle, and why the division rule matters.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp8_e4m3fn.hpp"
#include "support/numerics_oracle.hpp"

using qfp8_test::E4m3Oracle;

namespace {

float from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Each E4M3 value, each midpoint between neighbours (exact in float: at most 5 significant
// bits), and their float neighbours on both sides; then the special points.
std::vector<float> boundary_values(const E4m3Oracle& oracle) {
  std::vector<float> points;
  for (int code = 0; code < E4m3Oracle::kFiniteCodes; ++code) {
    points.push_back(static_cast<float>(oracle.value(code)));
    if (code + 1 < E4m3Oracle::kFiniteCodes) {
      points.push_back(static_cast<float>((oracle.value(code) + oracle.value(code + 1)) / 2));
    }
  }
  const float specials[] = {448.0f, 464.0f, 480.0f, 0.0009765625f /* 2^-10 */,
                            0.001953125f /* 2^-9 */, 0.015625f /* 2^-6 */,
                            0.0146484375f /* 7.5 * 2^-9 */, FLT_MIN, FLT_TRUE_MIN, FLT_MAX,
                            from_bits(0x007FFFFF) /* largest float subnormal */};
  points.insert(points.end(), std::begin(specials), std::end(specials));
  std::vector<float> all;
  for (const float p : points) {
    for (const float v : {p, std::nextafter(p, 0.0f), std::nextafter(p, HUGE_VALF)}) {
      all.push_back(v);
      all.push_back(-v);
    }
  }
  all.push_back(HUGE_VALF);
  all.push_back(-HUGE_VALF);
  return all;
}

uint64_t count_mismatches(const std::vector<float>& values, float scale,
                          const E4m3Oracle& oracle) {
  uint64_t mismatches = 0;
  for (const float w : values) {
    const float x = w / scale;
    if (qfp8::quantize_e4m3fn(w, scale) != oracle.cast(x)) ++mismatches;
  }
  return mismatches;
}

}  // namespace

TEST_CASE("F32 rounding boundaries match the oracle", "[numerics]") {
  const E4m3Oracle oracle;
  const std::vector<float> values = boundary_values(oracle);
  for (const float scale : {1.0f, 0.5f, 2.0f, 1.0f / 448.0f, 3.0f / 448.0f}) {
    INFO("scale " << scale);
    CHECK(count_mismatches(values, scale, oracle) == 0);
  }
  // Hand-checked ties and saturation (docs/format.md#numerics-cast).
  CHECK(qfp8::e4m3fn_from_f32(464.0f) == 0x7E);
  CHECK(qfp8::e4m3fn_from_f32(std::nextafter(464.0f, HUGE_VALF)) == 0x7E);
  CHECK(qfp8::e4m3fn_from_f32(-HUGE_VALF) == 0xFE);
  CHECK(qfp8::e4m3fn_from_f32(std::nextafter(0.0009765625f, HUGE_VALF)) == 0x01);
  CHECK(qfp8::e4m3fn_from_f32(0.0146484375f) == 0x08);  // 7.5 * 2^-9: tie, even is 2^-6
  CHECK(qfp8::e4m3fn_from_f32(FLT_TRUE_MIN) == 0x00);
  CHECK(qfp8::e4m3fn_from_f32(-FLT_TRUE_MIN) == 0x80);
}

TEST_CASE("millions of random F32 values match the oracle", "[numerics][slow]") {
  const E4m3Oracle oracle;
  std::mt19937_64 random(20261125);
  std::vector<float> values;
  values.reserve(4u << 20);
  // Mostly magnitudes around the E4M3 range (float exponents 2^-27 .. 2^12), some fully
  // random bit patterns (NaN excluded: the oracle defines finite and infinite inputs).
  std::uniform_int_distribution<uint32_t> exponent(100, 139);
  while (values.size() < (3u << 20)) {
    const uint32_t r = static_cast<uint32_t>(random());
    values.push_back(from_bits((r & 0x807FFFFFu) | (exponent(random) << 23)));
  }
  while (values.size() < (4u << 20)) {
    const float v = from_bits(static_cast<uint32_t>(random()));
    if (!std::isnan(v)) values.push_back(v);
  }
  for (const float scale : {1.0f, 0.75f, 1.0f / 448.0f}) {
    INFO("scale " << scale);
    CHECK(count_mismatches(values, scale, oracle) == 0);
  }
}

TEST_CASE("quantization divides by the scale; a reciprocal multiply would differ",
          "[numerics]") {
  // For each BF16 amax in [1, 2), scale = amax / 448; w / scale and w * (1 / scale) can
  // round to different floats, and where that float is an E4M3 tie the code differs.
  const E4m3Oracle oracle;
  uint64_t differing_pairs = 0;
  int scales_with_difference = 0;
  uint64_t follows_division = 0;
  for (uint32_t mantissa = 0; mantissa < 128; ++mantissa) {
    const float scale = qfp8_test::spec_scale(from_bits((0x3F80u | mantissa) << 16));
    const float reciprocal = 1.0f / scale;
    bool differs = false;
    for (uint32_t bits = 0; bits < 0x7F80u; ++bits) {  // finite non-negative BF16
      const float w = from_bits(bits << 16);
      const uint8_t by_division = oracle.cast(w / scale);
      const uint8_t by_multiply = oracle.cast(w * reciprocal);
      if (by_division == by_multiply) continue;
      differs = true;
      ++differing_pairs;
      if (qfp8::quantize_e4m3fn(w, scale) == by_division) ++follows_division;
    }
    if (differs) ++scales_with_difference;
  }
  INFO(scales_with_difference << " of 128 scales have weights where the two rules differ");
  REQUIRE(differing_pairs > 0);
  CHECK(follows_division == differing_pairs);
}
