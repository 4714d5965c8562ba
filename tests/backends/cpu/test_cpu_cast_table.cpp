// test_cpu_cast_table.cpp — the CPU backend's 65536-entry code table and its fast
// loops give exactly quantize_e4m3fn for every 16-bit pattern (NaN aside: such tensors are
// rejected before the cast), and the device selection rules of backend_select.hpp.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/backend_select.hpp"
#include "backends/cpu/cpu_cast.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "support/numerics_oracle.hpp"

using qfp8::Dtype;

namespace {

std::vector<uint8_t> all_16bit_patterns() {
  std::vector<uint8_t> bytes(2 * 65536);
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const auto pattern = static_cast<uint16_t>(bits);
    std::memcpy(bytes.data() + 2 * bits, &pattern, 2);
  }
  return bytes;
}

}  // namespace

TEST_CASE("magnitude table cast equals quantize_e4m3fn for all 16-bit patterns",
          "[backend]") {
  const auto patterns = all_16bit_patterns();
  for (const Dtype dtype : {Dtype::BF16, Dtype::F16}) {
    for (const float amax : {0.0f, 1.0f, 1.3671875f, 0.0011444092f, 65504.0f, 3e38f}) {
      INFO(qfp8::dtype_name(dtype) << " amax " << amax);
      const float scale = qfp8_test::spec_scale(amax);
      std::vector<uint8_t> table(qfp8::kCodeTableSize);
      qfp8::build_code_table(dtype, scale, 0x7FFF, table.data());
      std::vector<uint8_t> via_table(65536);
      std::vector<uint8_t> direct(65536);
      qfp8::cast_with_table(table.data(), patterns.data(), 65536, via_table.data());
      qfp8::cast_direct(dtype, patterns.data(), 65536, scale, direct.data());
      const uint16_t nonfinite = dtype == Dtype::BF16 ? 0x7F80 : 0x7C00;
      uint32_t table_wrong = 0;
      uint32_t direct_wrong = 0;
      for (uint32_t bits = 0; bits < 65536; ++bits) {
        const auto pattern = static_cast<uint16_t>(bits);
        const bool is_nan = (bits & 0x7FFFu) > nonfinite;
        const float w = dtype == Dtype::BF16 ? qfp8::bf16_to_f32(pattern)
                                             : qfp8::f16_to_f32(pattern);
        const uint8_t expected = qfp8::quantize_e4m3fn(w, scale);
        if (!is_nan && via_table[bits] != expected) ++table_wrong;
        if (direct[bits] != expected) ++direct_wrong;
      }
      CHECK(table_wrong == 0);
      CHECK(direct_wrong == 0);
    }
  }
}

TEST_CASE("fast absmax equals the integer max of magnitudes, any alignment", "[backend]") {
  auto patterns = all_16bit_patterns();
  // Drop the NaN/Inf half so the answer is a finite pattern: 0x7F7F (BF16) / 0x7BFF (F16).
  std::vector<uint8_t> finite_bf16;
  std::vector<uint8_t> finite_f16;
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    if ((bits & 0x7FFFu) < 0x7F80u) finite_bf16.insert(finite_bf16.end(), &patterns[2 * bits], &patterns[2 * bits] + 2);
    if ((bits & 0x7FFFu) < 0x7C00u) finite_f16.insert(finite_f16.end(), &patterns[2 * bits], &patterns[2 * bits] + 2);
  }
  CHECK(qfp8::absmax_magnitude_fast(Dtype::BF16, finite_bf16.data(), finite_bf16.size() / 2) == 0x7F7F);
  CHECK(qfp8::absmax_magnitude_fast(Dtype::F16, finite_f16.data(), finite_f16.size() / 2) == 0x7BFF);
  CHECK(qfp8::absmax_magnitude_fast(Dtype::BF16, patterns.data(), 65536) == 0x7FFF);
  const uint8_t f32[] = {0xAA, 0x00, 0x00, 0x80, 0xBF, 0x00, 0x00, 0x00, 0x40};  // 1 byte in: -1, 2
  CHECK(qfp8::absmax_magnitude_fast(Dtype::F32, f32 + 1, 2) == 0x40000000u);
  CHECK(qfp8::absmax_magnitude_fast(Dtype::F32, f32 + 1, 1) == 0x3F800000u);
  CHECK(qfp8::absmax_magnitude_fast(Dtype::BF16, f32, 0) == 0);
}

TEST_CASE("device names and backend selection", "[backend]") {
  CHECK(qfp8::device_choice_from_name("auto") == qfp8::DeviceChoice::Auto);
  CHECK(qfp8::device_choice_from_name("cpu") == qfp8::DeviceChoice::Cpu);
  CHECK(qfp8::device_choice_from_name("cuda") == qfp8::DeviceChoice::Cuda);
  try {
    qfp8::device_choice_from_name("gpu");
    FAIL("no error");
  } catch (const qfp8::Error& error) {
    CHECK(error.code() == qfp8::ErrorCode::Usage);
  }
  qfp8::BackendRequest request;
  request.device = qfp8::DeviceChoice::Cpu;
  request.threads = 2;
  CHECK(qfp8::select_backend(request)->description() == "cpu (2 threads)");
#ifndef QFP8_HAVE_CUDA
  request.device = qfp8::DeviceChoice::Auto;
  CHECK(qfp8::select_backend(request)->description() == "cpu (2 threads)");
  request.device = qfp8::DeviceChoice::Cuda;
  try {
    qfp8::select_backend(request);
    FAIL("no error");
  } catch (const qfp8::Error& error) {
    CHECK(error.code() == qfp8::ErrorCode::CudaUnavailable);
    CHECK(std::string(error.what()) == "--device cuda: this binary was built without CUDA");
  }
#endif
}
