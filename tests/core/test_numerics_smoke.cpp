// test_numerics_smoke.cpp — hand-checked E4M3FN codes from the format's definition
// (1 sign, 4 exponent bits with bias 7, 3 mantissa bits; docs/format.md#numerics-e4m3fn).
#include <catch2/catch.hpp>

#include "core/fp8_e4m3fn.hpp"

using qfp8::e4m3fn_from_f32;

TEST_CASE("e4m3fn cast of hand-checked values", "[numerics]") {
  CHECK(e4m3fn_from_f32(0.0f) == 0x00);
  CHECK(e4m3fn_from_f32(-0.0f) == 0x80);
  CHECK(e4m3fn_from_f32(1.0f) == 0x38);          // exponent 7, mantissa 0
  CHECK(e4m3fn_from_f32(-2.0f) == 0xC0);
  CHECK(e4m3fn_from_f32(448.0f) == 0x7E);        // largest finite
  CHECK(e4m3fn_from_f32(1e30f) == 0x7E);         // saturates, never NaN
  CHECK(e4m3fn_from_f32(-500.0f) == 0xFE);
  CHECK(e4m3fn_from_f32(0.001953125f) == 0x01);  // 2^-9, smallest subnormal
  CHECK(e4m3fn_from_f32(0.0009765625f) == 0x00); // 2^-10: tie, rounds to even (0)
  CHECK(e4m3fn_from_f32(0.0029296875f) == 0x02); // 1.5 * 2^-9: tie, rounds to even (2)
  CHECK(e4m3fn_from_f32(1.0625f) == 0x38);       // halfway 1 and 1.125: even is 1
  CHECK(e4m3fn_from_f32(1.1875f) == 0x3A);       // halfway 1.125 and 1.25: even is 1.25
}
