// test_block_formats.cpp — the numerics of float8_e5m2, E2M1, mxfp8 and nvfp4
// (docs/format.md#formats) against values derived here from each format's definition:
// hand-checked codes, brute-force nearest-value searches and the float32 log2 by the C
// library, never by the functions under test.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

#include "core/block_formats.hpp"
#include "core/element_traits.hpp"
#include "core/float_rounding.hpp"
#include "core/fp4_e2m1.hpp"
#include "core/fp8_e5m2.hpp"

using namespace qfp8;

namespace {

float bits_to_float(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// E5M2 codes 0..0x7B in order are the non-negative finite values; the value of code c is
// computed from the definition (bias 15, 2 mantissa bits, subnormals c * 2^-16).
double e5m2_definition(int code) {
  const int exponent = (code >> 2) & 0x1F;
  const int mantissa = code & 3;
  const double magnitude = exponent == 0 ? mantissa * std::ldexp(1.0, -16)
                                         : (1.0 + mantissa / 4.0) * std::ldexp(1.0, exponent - 15);
  return (code & 0x80) ? -magnitude : magnitude;
}

// Round-to-nearest-even onto a sorted ladder of non-negative values (index = code),
// saturating at the top: an independent model of any small float format.
int nearest_even(const std::vector<double>& ladder, double magnitude) {
  if (magnitude >= ladder.back()) return static_cast<int>(ladder.size()) - 1;
  for (std::size_t i = 0; i + 1 < ladder.size(); ++i) {
    const double low = ladder[i];
    const double high = ladder[i + 1];
    if (magnitude > high) continue;
    const double mid = (low + high) / 2;
    if (magnitude < mid) return static_cast<int>(i);
    if (magnitude > mid) return static_cast<int>(i + 1);
    return (i % 2 == 0) ? static_cast<int>(i) : static_cast<int>(i + 1);
  }
  return static_cast<int>(ladder.size()) - 1;
}

}  // namespace

TEST_CASE("e5m2 cast of hand-checked values", "[numerics][formats]") {
  CHECK(e5m2_from_f32(0.0f) == 0x00);
  CHECK(e5m2_from_f32(-0.0f) == 0x80);
  CHECK(e5m2_from_f32(1.0f) == 0x3C);            // exponent 15, mantissa 0
  CHECK(e5m2_from_f32(57344.0f) == 0x7B);        // largest finite
  CHECK(e5m2_from_f32(1e30f) == 0x7B);           // saturates, never Inf
  CHECK(e5m2_from_f32(-INFINITY) == 0xFB);
  CHECK(e5m2_from_f32(std::ldexp(1.0f, -16)) == 0x01);  // smallest subnormal
  CHECK(e5m2_from_f32(std::ldexp(1.0f, -17)) == 0x00);  // tie: even is 0
  CHECK(e5m2_from_f32(1.125f) == 0x3C);          // halfway 1 and 1.25: even is 1
  CHECK(e5m2_from_f32(1.375f) == 0x3E);          // halfway 1.25 and 1.5: even is 1.5
  CHECK(e5m2_to_f32(0x7B) == 57344.0f);
  CHECK(e5m2_is_nonfinite(0x7C));
  CHECK(e5m2_is_nonfinite(0xFF));
  CHECK_FALSE(e5m2_is_nonfinite(0x7B));
}

TEST_CASE("e5m2 cast of every finite F16 equals nearest-even on the E5M2 ladder",
          "[numerics][formats]") {
  std::vector<double> ladder;
  for (int code = 0; code <= 0x7B; ++code) ladder.push_back(e5m2_definition(code));
  for (uint32_t bits = 0; bits < 0x7C00; ++bits) {
    const float value = f16_to_f32(static_cast<uint16_t>(bits));
    const int expected = nearest_even(ladder, value);
    REQUIRE(e5m2_from_f32(value) == expected);
    REQUIRE(e5m2_from_f32(-value) == (expected | 0x80));
  }
  for (int code = 0; code <= 0x7B; ++code) CHECK(e5m2_to_f32(static_cast<uint8_t>(code)) == e5m2_definition(code));
}

TEST_CASE("e2m1 cast equals nearest-even on its eight magnitudes", "[numerics][formats]") {
  const std::vector<double> ladder = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (int code = 0; code < 16; ++code) {
    CHECK(e2m1_to_f32(static_cast<uint8_t>(code)) == ((code & 8) ? -ladder[code & 7] : ladder[code & 7]));
  }
  // Every BF16 magnitude up to 8 (all ties and both sides of each are BF16 values).
  for (uint32_t bits = 0; bits <= 0x4100; ++bits) {
    const float value = bf16_to_f32(static_cast<uint16_t>(bits));
    const int expected = nearest_even(ladder, value);
    REQUIRE(e2m1_from_f32(value) == expected);
    REQUIRE(e2m1_from_f32(-value) == (expected | 8));  // the sign stays, even on zero
  }
  CHECK(e2m1_from_f32(0.25f) == 0);
  CHECK(e2m1_from_f32(0.75f) == 2);
  CHECK(e2m1_from_f32(5.0f) == 6);
  CHECK(e2m1_from_f32(-0.1f) == 0x8);
}

TEST_CASE("f32 to f16 rounding equals nearest-even on F16's own values", "[numerics][formats]") {
  // Between consecutive positive F16 values a and b: a, a + 1 F32 ulp, the midpoint and its
  // F32 neighbours, b - 1 ulp.
  for (uint32_t bits = 0; bits < 0x7BFF; ++bits) {
    const float a = f16_to_f32(static_cast<uint16_t>(bits));
    const float b = f16_to_f32(static_cast<uint16_t>(bits + 1));
    const float mid = (a + b) / 2;  // exact in F32
    REQUIRE(f32_to_f16_rne(a) == bits);
    REQUIRE(f32_to_f16_rne(std::nextafter(mid, 0.0f)) == bits);
    REQUIRE(f32_to_f16_rne(mid) == ((bits & 1) ? bits + 1 : bits));
    REQUIRE(f32_to_f16_rne(std::nextafter(mid, 1e9f)) == bits + 1);
    REQUIRE(f32_to_f16_rne(-b) == ((bits + 1) | 0x8000));
  }
  CHECK(f32_to_f16_rne(65504.0f) == 0x7BFF);
  CHECK(f32_to_f16_rne(65519.99f) == 0x7BFF);
  CHECK(f32_to_f16_rne(65520.0f) == 0x7C00);  // the midpoint to 65536 rounds to Inf
}

TEST_CASE("ceil of log2 rounded to float32", "[numerics][formats]") {
  // The definition: the C library's double log2, rounded to float32, then the ceiling.
  const auto expected = [](float x) {
    return static_cast<int>(std::ceil(static_cast<float>(std::log2(static_cast<double>(x)))));
  };
  int rounded_down = 0;
  for (int k = -127; k <= 127; ++k) {
    for (uint32_t n = 0; n <= 64; ++n) {
      const float x = std::ldexp(1.0f + static_cast<float>(n) * std::ldexp(1.0f, -23), k);
      if (!(x > 0) || std::isinf(x)) continue;
      INFO("k " << k << " n " << n);
      REQUIRE(ceil_log2_as_float32(x) == expected(x));
      if (n > 0 && expected(x) == k) ++rounded_down;
    }
    const float below_next = std::nextafter(std::ldexp(1.0f, k + 1), 0.0f);
    if (k < 127) REQUIRE(ceil_log2_as_float32(below_next) == expected(below_next));
  }
  CHECK(rounded_down > 100);  // the rule is exercised, not only exact powers of two
  // The subnormal range just above the clamp 2^-127.
  for (uint32_t bits = 0x00400000u; bits < 0x00400000u + 4096; ++bits) {
    REQUIRE(ceil_log2_as_float32(bits_to_float(bits)) == expected(bits_to_float(bits)));
  }
}

TEST_CASE("a block whose amax is Inf or NaN gets the largest E8M0 code", "[numerics][formats]") {
  // Not finite: above every power of two a float holds (2^127 gives 127), whatever the NaN's
  // payload (its mantissa once indexed past the rounding table).
  const float infinity = std::numeric_limits<float>::infinity();
  CHECK(ceil_log2_as_float32(infinity) == 128);
  for (const uint32_t nan_bits : {0x7FC00000u, 0x7F800001u, 0x7FFFFFFFu, 0xFFC00000u}) {
    INFO("NaN bits " << nan_bits);
    CHECK(ceil_log2_as_float32(bits_to_float(nan_bits)) == 128);
    CHECK(mxfp8_scale_code(bits_to_float(nan_bits)) == 254);
  }
  CHECK(ceil_log2_as_float32(std::numeric_limits<float>::max()) == 128);  // log2 rounds up to 128
  CHECK(mxfp8_scale_code(infinity) == 254);
}

TEST_CASE("blocked scale offsets follow cuBLAS's 128x4 tiles", "[numerics][formats]") {
  CHECK(padded_scale_rows(1) == 128);
  CHECK(padded_scale_rows(128) == 128);
  CHECK(padded_scale_rows(129) == 256);
  CHECK(padded_scale_cols(5) == 8);
  // Inside a tile, row r and block c are at (r % 32) * 16 + (r / 32) * 4 + c.
  CHECK(blocked_scale_offset(0, 0, 4) == 0);
  CHECK(blocked_scale_offset(0, 1, 4) == 1);
  CHECK(blocked_scale_offset(1, 0, 4) == 16);
  CHECK(blocked_scale_offset(32, 0, 4) == 4);
  CHECK(blocked_scale_offset(127, 3, 4) == 511);
  CHECK(blocked_scale_offset(128, 0, 4) == 512);   // the next row of tiles
  CHECK(blocked_scale_offset(0, 4, 8) == 512);     // the next tile in a row of tiles
  CHECK(blocked_scale_offset(128, 0, 8) == 1024);
  // A bijection of the padded matrix onto its bytes.
  std::set<uint64_t> offsets;
  for (uint64_t r = 0; r < 256; ++r) {
    for (uint64_t c = 0; c < 12; ++c) offsets.insert(blocked_scale_offset(r, c, 12));
  }
  CHECK(offsets.size() == 256 * 12);
  CHECK(*offsets.rbegin() == 256 * 12 - 1);
}

TEST_CASE("mxfp8 blocks of hand-checked values", "[numerics][formats]") {
  std::vector<uint16_t> block(32, 0x3F80);  // 1.0: 1 / 448 -> 2^-8.8 -> p = -8
  uint8_t out[32];
  const auto* bytes = reinterpret_cast<const uint8_t*>(block.data());
  CHECK(mxfp8_quantize_block<Bf16Element>(bytes, 32, out) == 127 - 8);
  CHECK(out[0] == 0x78);  // 1 / 2^-8 = 256 = 2^8
  block[5] = 0x43E0;      // 448 -> 448 / 448 = 1 -> p = 0
  CHECK(mxfp8_quantize_block<Bf16Element>(bytes, 32, out) == 127);
  CHECK(out[5] == 0x7E);
  CHECK(out[0] == 0x38);  // 1.0
  std::vector<uint16_t> zeros(32, 0x8000);  // -0 everywhere: an all-zero block
  CHECK(mxfp8_quantize_block<Bf16Element>(reinterpret_cast<const uint8_t*>(zeros.data()), 32, out) == 0);
  CHECK(out[0] == 0x00);
  CHECK(e8m0_to_f32(0) == 0.0f);
  CHECK(e8m0_to_f32(127) == 1.0f);
  CHECK(e8m0_to_f32(254) == std::ldexp(1.0f, 127));
  // amax 448 * 2^-127 and below: code 0; nonzero elements saturate, zeros stay zero.
  std::vector<float> tiny(32, 0.0f);
  tiny[0] = std::ldexp(1.0f, -120);
  tiny[1] = -std::ldexp(1.0f, -121);
  CHECK(mxfp8_quantize_block<F32Element>(reinterpret_cast<const uint8_t*>(tiny.data()), 32, out) == 0);
  CHECK(out[0] == 0x7E);
  CHECK(out[1] == 0xFE);
  CHECK(out[2] == 0x00);
}

TEST_CASE("nvfp4 tensor scale is rounded to the tensor's dtype", "[numerics][formats]") {
  // 2688 / 2688 = 1 in every dtype.
  CHECK(nvfp4_tensor_scale<Bf16Element>(0x4528) == 1.0f);  // BF16 2688
  // 1 / 2688 = 3.7202381e-4: BF16 keeps 8 significant bits. Candidates around it:
  const double exact = 1.0 / 2688.0;
  const float bf16 = nvfp4_tensor_scale<Bf16Element>(0x3F80);
  const float f16 = nvfp4_tensor_scale<F16Element>(0x3C00);
  const float f32 = nvfp4_tensor_scale<F32Element>(0x3F800000u);
  CHECK(f32 == static_cast<float>(exact));
  // The nearest BF16 / F16 values, found by stepping their patterns.
  const auto nearest = [&](auto widen, uint32_t first, uint32_t last) {
    float best = 0;
    for (uint32_t bits = first; bits <= last; ++bits) {
      const float value = widen(static_cast<uint16_t>(bits));
      if (std::fabs(value - exact) < std::fabs(best - exact)) best = value;
    }
    return best;
  };
  CHECK(bf16 == nearest(bf16_to_f32, 0x3900, 0x3A00));
  CHECK(f16 == nearest(f16_to_f32, 0x0C00, 0x1000));
  CHECK(bf16 != f32);
  // All zero: 1.0 rather than 0 (comfy-kitchen would divide 0 by 0).
  CHECK(nvfp4_tensor_scale<Bf16Element>(0) == 1.0f);
  // An F16 amax whose quotient underflows F16: 1.0 as well.
  CHECK(nvfp4_tensor_scale<F16Element>(0x0001) == 1.0f);
}

TEST_CASE("nvfp4 blocks of hand-checked values", "[numerics][formats]") {
  // With a tensor scale of 1 and a block amax of 2688, the block scale is 2688 / 6 = 448.
  // Elements / 448: 6 -> 7, 2688 * k / 6 ... chosen to land on E2M1 values and ties.
  const float values[16] = {2688.0f, 224.0f, 336.0f, 1120.0f, -2688.0f, 0.0f, -0.0f, 112.0f,
                            560.0f, 784.0f, 1568.0f, 2240.0f, 100.0f, -224.0f, 448.0f, 896.0f};
  // /448: 6, 0.5, 0.75(tie->1), 2.5(tie->2), -6, 0, -0, 0.25(tie->0), 1.25(tie->1),
  //       1.75(tie->2), 3.5(tie->4), 5(tie->4), 0.223, -0.5, 1, 2
  const uint8_t codes[16] = {7, 1, 2, 4, 0xF, 0, 8, 0, 2, 4, 6, 6, 0, 9, 2, 4};
  uint8_t out[8];
  const uint8_t scale_code =
      nvfp4_quantize_block<F32Element>(reinterpret_cast<const uint8_t*>(values), 1.0f, out);
  CHECK(scale_code == 0x7E);  // 448
  for (int i = 0; i < 8; ++i) {
    INFO("byte " << i);
    CHECK(out[i] == ((codes[2 * i] << 4) | codes[2 * i + 1]));  // first element high
  }
  // A block scale above 448 (a rounded-down tensor scale) is clamped to 448.
  CHECK(nvfp4_block_scale_code(2700.0f, 1.0f) == 0x7E);
  // A zero block: scale code 0, all-zero data.
  const float zeros[16] = {};
  CHECK(nvfp4_quantize_block<F32Element>(reinterpret_cast<const uint8_t*>(zeros), 1.0f, out) == 0);
  for (int i = 0; i < 8; ++i) CHECK(out[i] == 0);
}
