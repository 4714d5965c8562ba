// test_quantize_reference.cpp — the scalar twins of quantize_reference.hpp against plain
// per-element loops written here, from unaligned little-endian buffers.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "support/numerics_oracle.hpp"

using qfp8::Dtype;

namespace {

std::size_t element_size(Dtype dtype) { return dtype == Dtype::F32 ? 4 : 2; }

// Element i decoded by the test: little-endian bytes, then the format definition.
double decode(Dtype dtype, const uint8_t* bytes, uint64_t i) {
  const uint8_t* p = bytes + i * element_size(dtype);
  if (dtype == Dtype::F32) {
    const uint32_t bits = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                          uint32_t{p[3]} << 24;
    return qfp8::float_from_bits(bits);
  }
  const auto bits = static_cast<uint16_t>(p[0] | p[1] << 8);
  return dtype == Dtype::BF16 ? qfp8_test::bf16_definition(bits)
                              : qfp8_test::f16_definition(bits);
}

// `numel` random finite elements written at byte offset `offset` of the returned buffer.
std::vector<uint8_t> random_elements(Dtype dtype, uint64_t numel, std::size_t offset,
                                     uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<uint8_t> bytes(offset + numel * element_size(dtype));
  for (uint64_t i = 0; i < numel; ++i) {
    auto bits = static_cast<uint32_t>(random());
    if (dtype == Dtype::F32) bits = (bits & 0x87FFFFFFu) | 0x38000000u;  // |x| in [2^-15, 2^16)
    if (dtype == Dtype::BF16) bits = (bits & 0x87FFu) | 0x3800u;
    if (dtype == Dtype::F16) bits &= 0xBFFFu;  // exponent <= 15: finite
    for (std::size_t b = 0; b < element_size(dtype); ++b) {
      bytes[offset + i * element_size(dtype) + b] = static_cast<uint8_t>(bits >> (8 * b));
    }
  }
  return bytes;
}

}  // namespace

TEST_CASE("quantize_reference equals a per-element loop, any alignment", "[numerics]") {
  const uint64_t numel = 4099;
  for (const Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    for (const std::size_t offset : {0u, 1u, 2u, 3u}) {
      INFO("dtype " << qfp8::dtype_name(dtype) << " offset " << offset);
      const auto bytes = random_elements(dtype, numel, offset, static_cast<uint32_t>(7 + offset));
      const uint8_t* source = bytes.data() + offset;

      double amax = 0.0;
      for (uint64_t i = 0; i < numel; ++i) amax = std::max(amax, std::fabs(decode(dtype, source, i)));
      const uint32_t magnitude = qfp8::absmax_magnitude_reference(dtype, source, numel);
      CHECK(static_cast<double>(qfp8::amax_from_magnitude(dtype, magnitude)) == amax);
      CHECK_FALSE(qfp8::magnitude_is_nonfinite(dtype, magnitude));

      const float scale = qfp8_test::spec_scale(static_cast<float>(amax));
      std::vector<uint8_t> out(numel);
      qfp8::quantize_reference(dtype, source, numel, scale, out.data());
      const qfp8_test::E4m3Oracle oracle;
      uint64_t mismatches = 0;
      for (uint64_t i = 0; i < numel; ++i) {
        const float w = static_cast<float>(decode(dtype, source, i));
        CHECK(qfp8::load_as_f32(dtype, source, i) == w);
        if (out[i] != oracle.cast(w / scale)) ++mismatches;
      }
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("absmax reference: empty tensor and non-finite magnitudes", "[numerics]") {
  CHECK(qfp8::absmax_magnitude_reference(Dtype::BF16, nullptr, 0) == 0);
  const uint8_t bf16[] = {0x00, 0x3F, 0x80, 0xFF, 0x00, 0x40};  // 0x3F00, -Inf, 2.0
  CHECK(qfp8::absmax_magnitude_reference(Dtype::BF16, bf16, 3) == 0x7F80);
  CHECK(qfp8::magnitude_is_nonfinite(Dtype::BF16, 0x7F80));
  CHECK_FALSE(qfp8::magnitude_is_nonfinite(Dtype::BF16, 0x7F7F));
  CHECK(qfp8::magnitude_is_nonfinite(Dtype::F16, 0x7C00));
  CHECK_FALSE(qfp8::magnitude_is_nonfinite(Dtype::F16, 0x7BFF));
  CHECK(qfp8::magnitude_is_nonfinite(Dtype::F32, 0x7F800001));
  CHECK_FALSE(qfp8::magnitude_is_nonfinite(Dtype::F32, 0x7F7FFFFF));
  CHECK(qfp8::amax_from_magnitude(Dtype::F16, 0x3C00) == 1.0f);
}

TEST_CASE("quantize_reference rejects non-float dtypes", "[numerics]") {
  const uint8_t bytes[8] = {};
  uint8_t out[2] = {};
  for (const Dtype dtype : {Dtype::I32, Dtype::F8_E4M3, Dtype::F64, Dtype::U8}) {
    try {
      qfp8::quantize_reference(dtype, bytes, 2, 1.0f, out);
      FAIL("no error for " << qfp8::dtype_name(dtype));
    } catch (const qfp8::Error& error) {
      CHECK(error.code() == qfp8::ErrorCode::Internal);
    }
    CHECK_THROWS_AS(qfp8::absmax_magnitude_reference(dtype, bytes, 2), qfp8::Error);
  }
}
