// test_checked_math.cpp — the overflow checks the header parser and the layout rely on, at
// the edges of 64 bits (expected values written out, not computed by the code under test).
#include <catch2/catch.hpp>

#include <cstdint>

#include "core/checked_math.hpp"

TEST_CASE("mul_overflow reports products past 2^64 - 1 and only those", "[core]") {
  uint64_t out = 0;
  CHECK_FALSE(qfp8::mul_overflow(0, UINT64_MAX, &out));
  CHECK(out == 0);
  CHECK_FALSE(qfp8::mul_overflow(UINT64_MAX, 1, &out));
  CHECK(out == UINT64_MAX);
  CHECK_FALSE(qfp8::mul_overflow(4294967295ull, 4294967297ull, &out));  // 2^64 - 1 exactly
  CHECK(out == UINT64_MAX);
  CHECK(qfp8::mul_overflow(4294967296ull, 4294967296ull, &out));  // 2^64
  CHECK(qfp8::mul_overflow(UINT64_MAX, 2, &out));
  CHECK(qfp8::mul_overflow(3074457345618258603ull, 6, &out));  // just past 2^64 / 6
}

TEST_CASE("add_overflow reports sums past 2^64 - 1 and only those", "[core]") {
  uint64_t out = 0;
  CHECK_FALSE(qfp8::add_overflow(UINT64_MAX - 1, 1, &out));
  CHECK(out == UINT64_MAX);
  CHECK(qfp8::add_overflow(UINT64_MAX, 1, &out));
  CHECK(qfp8::add_overflow(9223372036854775808ull, 9223372036854775808ull, &out));
}
