// test_cuda_kernels.cpp — the absmax, scale and quantize kernels, one at a time, against
// the definitions of docs/format.md#numerics and the reference twins, byte for byte (kernels/kernel_harness.hpp
// runs each kernel synchronously on host data).
#include <cuda_runtime.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "kernels/absmax_kernel.cuh"
#include "kernels/quantize_kernel.cuh"
#include "selftest/cuda/kernel_harness.hpp"
#include "support/cuda_test_data.hpp"
#include "support/cuda_test_gate.hpp"

using namespace qfp8;
using qfp8::test::element_size;

namespace {

constexpr int kDevice = 0;

std::vector<uint8_t> every_16bit_pattern() {
  std::vector<uint8_t> bytes(2 * 65536);
  for (uint32_t bits = 0; bits < 65536; ++bits) test::store_element(Dtype::BF16, bytes, bits, bits);
  return bytes;
}

/// Scales spread over float32's range, plus the ones the converter derives most often.
std::vector<float> test_scales(std::size_t count) {
  std::vector<float> scales{1.0f, 1.0f / 448.0f, 0.5f / 448.0f, 3.0f / 448.0f};
  std::mt19937 random(42);
  while (scales.size() < count) {
    const auto r = static_cast<uint32_t>(random());
    const uint32_t exponent = 127u - 40u + r % 70u;  // 2^-40 .. 2^29
    scales.push_back(float_from_bits((exponent << 23) | (r >> 9)));
  }
  return scales;
}

void require_quantize_matches_reference(Dtype dtype, const std::vector<uint8_t>& source,
                                        const std::vector<float>& scales, std::size_t source_offset,
                                        std::size_t out_offset) {
  const uint64_t numel = source.size() / element_size(dtype);
  const std::vector<uint8_t> got = cuda_quantize_with_scales(kDevice, dtype, source.data(), numel,
                                                             scales, source_offset, out_offset);
  REQUIRE(got.size() == numel * scales.size());
  std::vector<uint8_t> expected(numel);
  for (std::size_t s = 0; s < scales.size(); ++s) {
    quantize_reference(dtype, source.data(), numel, scales[s], expected.data());
    INFO("scale " << scales[s] << " source offset " << source_offset << " output offset "
                  << out_offset);
    const bool same = std::memcmp(got.data() + s * numel, expected.data(), numel) == 0;
    if (!same) {
      for (uint64_t i = 0; i < numel; ++i) {
        INFO("element " << i << " bits " << test::load_element(dtype, source, i));
        REQUIRE(int{got[s * numel + i]} == int{expected[i]});
      }
    }
    REQUIRE(same);
  }
}

}  // namespace

TEST_CASE("absmax kernel finds the largest magnitude at every size, offset and position",
          "[cuda][absmax]") {
  for (Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    const std::size_t size = element_size(dtype);
    // Well above the random weights' exponent window (and negative: the sign must go).
    const uint32_t big = dtype == Dtype::F32   ? 0xC3000001u
                         : dtype == Dtype::F16 ? 0xD801u
                                               : 0xC301u;
    for (uint64_t numel :
         {1u, 2u, 3u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 33u, 255u, 257u, 4097u, 100003u}) {
      for (std::size_t offset = 0; offset < 16; offset += size) {
        for (uint64_t position : {uint64_t{0}, numel / 2, numel - 1}) {
          std::vector<uint8_t> bytes =
              test::random_weights(dtype, numel, static_cast<uint32_t>(numel + offset));
          test::store_element(dtype, bytes, position, big);
          INFO(dtype_name(dtype) << " numel " << numel << " offset " << offset << " max at "
                                 << position);
          REQUIRE(cuda_absmax_magnitude(kDevice, dtype, bytes.data(), numel, offset) ==
                  test::expected_absmax_bits(dtype, bytes, numel));
          REQUIRE(test::expected_absmax_bits(dtype, bytes, numel) ==
                  (big & (size == 4 ? 0x7FFFFFFFu : 0x7FFFu)));
        }
      }
    }
  }
}

TEST_CASE("absmax kernel: empty, all-zero and non-finite tensors", "[cuda][absmax]") {
  const std::vector<uint8_t> zeros(2 * 1000, 0);
  CHECK(cuda_absmax_magnitude(kDevice, Dtype::BF16, zeros.data(), 0, 0) == 0u);
  CHECK(cuda_absmax_magnitude(kDevice, Dtype::BF16, zeros.data(), 1000, 0) == 0u);
  std::vector<uint8_t> with_nan = test::random_weights(Dtype::BF16, 1000, 5);
  test::store_element(Dtype::BF16, with_nan, 999, 0xFFC1u);  // negative NaN
  CHECK(cuda_absmax_magnitude(kDevice, Dtype::BF16, with_nan.data(), 1000, 0) == 0x7FC1u);
}

namespace {

/// Whether the device has `bytes` free. If not, the test is recorded as skipped (the run
/// then exits 77, which CTest shows as "Skipped", not "Passed") and must return.
bool device_has_free(uint64_t bytes) {
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
  REQUIRE(cudaSetDevice(kDevice) == cudaSuccess);
  REQUIRE(cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess);
  if (free_bytes >= bytes) return true;
  const std::string why = "needs " + std::to_string(bytes >> 30) + " GiB of free device memory, " +
                          std::to_string(free_bytes >> 30) + " GiB free";
  WARN("skipped: " << why);
  test::skip_test(Catch::getResultCapture().getCurrentTestName(), why);
  return false;
}

// 2^31 + 37 BF16 elements (4 GiB): 2^28 + 4 16-byte vectors, then a scalar tail of 5.
constexpr uint64_t kPast31 = (uint64_t{1} << 31) + 37;

}  // namespace

TEST_CASE("absmax kernel indexes past 2^31 elements", "[cuda][absmax][large]") {
  if (!device_has_free(6 * (uint64_t{1} << 30))) return;
  std::vector<uint8_t> bytes(kPast31 * 2, 0);
  test::store_element(Dtype::BF16, bytes, 3, 0x3F00u);  // 0.5
  // Beyond 2^31, where a 32-bit index would never reach: in the vector body, then in the
  // scalar tail.
  for (uint64_t position : {kPast31 - 13, kPast31 - 5}) {
    INFO("max at element " << position);
    test::store_element(Dtype::BF16, bytes, position, 0x3F80u);  // 1.0
    CHECK(cuda_absmax_magnitude(kDevice, Dtype::BF16, bytes.data(), kPast31, 0) == 0x3F80u);
    test::store_element(Dtype::BF16, bytes, position, 0u);
  }
}

TEST_CASE("quantize kernel writes every element past 2^31", "[cuda][quantize][large]") {
  if (!device_has_free(7 * (uint64_t{1} << 30))) return;
  // Element i holds the BF16 pattern i mod 2^16, so the expected code of each element is
  // one lookup in the reference's codes for all 65,536 patterns.
  std::vector<uint8_t> bytes(kPast31 * 2);
  for (uint64_t i = 0; i < kPast31; ++i) {
    bytes[2 * i] = static_cast<uint8_t>(i & 0xFFu);
    bytes[2 * i + 1] = static_cast<uint8_t>((i >> 8) & 0xFFu);
  }
  const float scale = 1.0f / 64.0f;
  const std::vector<uint8_t> patterns = every_16bit_pattern();
  std::vector<uint8_t> codes(65536);
  quantize_reference(Dtype::BF16, patterns.data(), 65536, scale, codes.data());
  const std::vector<uint8_t> got =
      cuda_quantize_with_scales(kDevice, Dtype::BF16, bytes.data(), kPast31, {scale}, 0, 0);
  REQUIRE(got.size() == kPast31);
  uint64_t mismatches = 0;
  uint64_t first_mismatch = 0;
  for (uint64_t i = 0; i < kPast31; ++i) {
    if (got[i] != codes[i & 0xFFFFu] && mismatches++ == 0) first_mismatch = i;
  }
  INFO("first mismatch at element " << first_mismatch);
  CHECK(mismatches == 0);
}

TEST_CASE("scale kernel equals the host scale for every finite BF16 and F16 amax",
          "[cuda][scale]") {
  for (Dtype dtype : {Dtype::BF16, Dtype::F16}) {
    const uint32_t end = dtype == Dtype::BF16 ? kBf16NonFiniteMagnitude : kF16NonFiniteMagnitude;
    std::vector<uint32_t> magnitudes(end);
    for (uint32_t m = 0; m < end; ++m) magnitudes[m] = m;
    const std::vector<float> got = cuda_scales_from_magnitudes(kDevice, dtype, magnitudes);
    REQUIRE(got.size() == magnitudes.size());
    for (uint32_t m = 0; m < end; ++m) {
      INFO(dtype_name(dtype) << " amax bits " << m);
      REQUIRE(float_bits(got[m]) == float_bits(scale_from_amax(amax_from_magnitude(dtype, m))));
    }
  }
  // Hand-checked: an all-zero tensor scales by 1; amax 448 gives 1; amax 896 gives 2.
  const std::vector<float> anchors =
      cuda_scales_from_magnitudes(kDevice, Dtype::BF16, {0u, 0x43E0u, 0x4460u});
  CHECK(anchors == std::vector<float>{1.0f, 1.0f, 2.0f});
  const std::vector<float> f32 =
      cuda_scales_from_magnitudes(kDevice, Dtype::F32, {0x43E00000u, 0x7F7FFFFFu});
  CHECK(f32[0] == 1.0f);
  CHECK(float_bits(f32[1]) == float_bits(3.40282347e38f / 448.0f));
}

TEST_CASE("quantize kernel gives hand-checked codes", "[cuda][quantize]") {
  // BF16 1.0, -2.0, 448, 1e30-ish, NaN, 2^-9, +0, -0 with scale 1 (docs/format.md#numerics-e4m3fn).
  const std::vector<uint32_t> inputs{0x3F80u, 0xC000u, 0x43E0u, 0x7149u,
                                     0x7FC0u, 0x3B00u, 0x0000u, 0x8000u};
  std::vector<uint8_t> bytes(2 * inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i)
    test::store_element(Dtype::BF16, bytes, i, inputs[i]);
  const std::vector<uint8_t> got =
      cuda_quantize_with_scales(kDevice, Dtype::BF16, bytes.data(), inputs.size(), {1.0f}, 0, 0);
  CHECK(got == std::vector<uint8_t>{0x38, 0xC0, 0x7E, 0x7E, 0x7F, 0x01, 0x00, 0x80});
  // Scale 2: 1.0 / 2 = 0.5 = 2^-1 -> exponent 6 -> 0x30.
  const std::vector<uint8_t> halved =
      cuda_quantize_with_scales(kDevice, Dtype::BF16, bytes.data(), 1, {2.0f}, 0, 0);
  CHECK(int{halved[0]} == 0x30);
}

// [sweep]: many values through one access pattern; compute-sanitizer skips these (the
// misalignment test below covers every edge of the access pattern).
TEST_CASE("quantize kernel equals the reference for every BF16 value x 160 scales",
          "[cuda][quantize][sweep]") {
  require_quantize_matches_reference(Dtype::BF16, every_16bit_pattern(), test_scales(160), 0, 0);
}

TEST_CASE("quantize kernel equals the reference for every F16 value x 40 scales",
          "[cuda][quantize][sweep]") {
  require_quantize_matches_reference(Dtype::F16, every_16bit_pattern(), test_scales(40), 0, 0);
}

TEST_CASE("quantize kernel equals the reference for random F32 bit patterns",
          "[cuda][quantize][sweep]") {
  std::mt19937 random(3);
  std::vector<uint8_t> bytes(4 * 100003);
  for (uint64_t i = 0; i < 100003; ++i)
    test::store_element(Dtype::F32, bytes, i, static_cast<uint32_t>(random()));
  require_quantize_matches_reference(Dtype::F32, bytes, test_scales(24), 0, 0);
}

TEST_CASE("quantize kernel handles every source and output misalignment", "[cuda][quantize]") {
  const std::vector<float> scales = test_scales(6);
  for (Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    const std::size_t size = element_size(dtype);
    for (uint64_t numel : {1u, 7u, 8u, 9u, 4099u}) {
      const std::vector<uint8_t> bytes = test::random_weights(dtype, numel, 9);
      for (std::size_t source_offset = 0; source_offset < 16; source_offset += size) {
        for (std::size_t out_offset = 0; out_offset < 8; ++out_offset) {
          require_quantize_matches_reference(dtype, bytes, scales, source_offset, out_offset);
        }
      }
    }
  }
}

TEST_CASE("kernel launchers reject a non-float source with the converter's one error",
          "[cuda][absmax][quantize]") {
  const std::string detail =
      "cannot quantize a I32 tensor: only F16, BF16 and F32 sources are supported";
  const auto rejects = [&](const char* launcher, auto launch) {
    INFO(launcher);
    try {
      launch();
      FAIL("no error for an I32 source");
    } catch (const Error& error) {
      CHECK(error.code() == ErrorCode::Internal);
      CHECK(error.detail() == detail);
    }
  };
  // Rejected before any CUDA call, so no device memory is needed.
  rejects("absmax", [] { launch_absmax_magnitude(Dtype::I32, nullptr, 4, nullptr, nullptr); });
  rejects("scale", [] { launch_scale_from_amax(Dtype::I32, nullptr, nullptr, nullptr); });
  rejects("quantize", [] { launch_quantize(Dtype::I32, nullptr, 4, nullptr, nullptr, nullptr); });
}
