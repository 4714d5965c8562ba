// kernel_sweep.cpp — selftest part (b): the device scale and quantize kernels vs
// the host reference twins (core/quantize_reference.hpp), byte for byte: every BF16
// and F16 bit pattern (NaN and Inf included) x a few hundred scales, F32 samples, buffers
// at every misalignment, and the scale of every finite BF16/F16 amax magnitude.
#include <cstdio>
#include <cstring>
#include <random>

#include "core/element_traits.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "selftest/cuda/device_checks.hpp"
#include "selftest/cuda/kernel_harness.hpp"
#include "selftest/selftest_check.hpp"

namespace qfp8::selftest {
namespace {

std::vector<uint8_t> every_16bit_pattern() {
  std::vector<uint8_t> bytes(2 * 65536);
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    bytes[2 * bits] = static_cast<uint8_t>(bits & 0xFFu);
    bytes[2 * bits + 1] = static_cast<uint8_t>(bits >> 8);
  }
  return bytes;
}

/// Scales the converter can produce for this dtype (derived from amax magnitudes spread
/// over the whole finite range, plus the extremes) and 64 arbitrary ones.
std::vector<float> sweep_scales(Dtype dtype) {
  const uint32_t finite_end = nonfinite_magnitude(dtype);
  std::vector<float> scales{1.0f};
  const uint32_t step = finite_end / 256;
  for (uint32_t m = 1; m < finite_end; m += step)
    scales.push_back(scale_from_amax(amax_from_magnitude(dtype, m)));
  for (uint32_t m : {1u, finite_end - 1, finite_end / 2}) {
    scales.push_back(scale_from_amax(amax_from_magnitude(dtype, m)));
  }
  std::mt19937 random(20260);
  std::uniform_int_distribution<uint32_t> mantissa(0, 0x7FFFFF);
  std::uniform_int_distribution<uint32_t> exponent(127 - 40, 127 + 40);
  for (int k = 0; k < 64; ++k)
    scales.push_back(float_from_bits((exponent(random) << 23) | mantissa(random)));
  return scales;
}

std::string hex_element(Dtype dtype, const uint8_t* source, uint64_t i) {
  char text[32];
  const std::size_t size = dtype_size(dtype);
  uint32_t bits = 0;
  for (std::size_t b = 0; b < size; ++b) bits |= uint32_t{source[size * i + b]} << (8 * b);
  std::snprintf(text, sizeof text, size == 2 ? "0x%04X" : "0x%08X", bits);
  return text;
}

/// One quantize comparison: device (at the given offsets) vs quantize_reference.
SelftestCheck compare_quantize(int device, Dtype dtype, const std::vector<uint8_t>& source,
                               const std::vector<float>& scales, std::size_t source_offset,
                               std::size_t out_offset) {
  const uint64_t numel = source.size() / dtype_size(dtype);
  const std::vector<uint8_t> got = cuda_quantize_with_scales(device, dtype, source.data(), numel,
                                                             scales, source_offset, out_offset);
  SelftestCheck check;
  check.name = "quantize kernel";
  std::vector<uint8_t> expected(numel);
  uint64_t mismatches = 0;
  for (std::size_t s = 0; s < scales.size(); ++s) {
    quantize_reference(dtype, source.data(), numel, scales[s], expected.data());
    for (uint64_t i = 0; i < numel; ++i) {
      if (got[s * numel + i] == expected[i]) continue;
      if (++mismatches <= 8) {
        char line[128];
        std::snprintf(line, sizeof line, "%s %s / scale %a: device 0x%02X, reference 0x%02X",
                      std::string(dtype_name(dtype)).c_str(),
                      hex_element(dtype, source.data(), i).c_str(), static_cast<double>(scales[s]),
                      got[s * numel + i], expected[i]);
        check.details.emplace_back(line);
      }
    }
  }
  check.passed = mismatches == 0;
  check.summary = std::string(dtype_name(dtype)) + ": " + std::to_string(numel) + " values x " +
                  std::to_string(scales.size()) + " scales (source +" +
                  std::to_string(source_offset) + " B, output +" + std::to_string(out_offset) +
                  " B): " + std::to_string(mismatches) + " mismatches";
  return check;
}

/// The device's scale for each magnitude vs the host's, compared as bits.
SelftestCheck compare_scales(int device, Dtype dtype, const std::vector<uint32_t>& magnitudes) {
  const std::vector<float> got = cuda_scales_from_magnitudes(device, dtype, magnitudes);
  SelftestCheck check;
  check.name = "scale kernel";
  uint64_t mismatches = 0;
  for (std::size_t k = 0; k < magnitudes.size(); ++k) {
    const float expected = scale_from_amax(amax_from_magnitude(dtype, magnitudes[k]));
    if (float_bits(got[k]) == float_bits(expected)) continue;
    if (++mismatches <= 8) {
      char line[128];
      std::snprintf(line, sizeof line, "%s amax bits 0x%X: device %a, host %a",
                    std::string(dtype_name(dtype)).c_str(), magnitudes[k],
                    static_cast<double>(got[k]), static_cast<double>(expected));
      check.details.emplace_back(line);
    }
  }
  check.passed = mismatches == 0;
  check.summary = std::string(dtype_name(dtype)) + ": " + std::to_string(magnitudes.size()) +
                  " amax magnitudes: " + std::to_string(mismatches) + " mismatches";
  return check;
}

std::vector<uint32_t> magnitudes_below(uint32_t end) {
  std::vector<uint32_t> magnitudes(end);
  for (uint32_t m = 0; m < end; ++m) magnitudes[m] = m;
  return magnitudes;
}

std::vector<uint8_t> random_f32_bytes(std::size_t count) {
  std::mt19937 random(7);
  std::vector<uint8_t> bytes(4 * count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto bits = static_cast<uint32_t>(random());  // mt19937 yields 32 bits
    std::memcpy(bytes.data() + 4 * i, &bits, 4);  // the host is little-endian, like the file
  }
  return bytes;
}

}  // namespace

std::vector<SelftestCheck> run_cuda_kernel_sweep(int device) {
  std::vector<SelftestCheck> checks;
  const std::vector<uint8_t> all16 = every_16bit_pattern();
  const std::vector<float> bf16_scales = sweep_scales(Dtype::BF16);
  checks.push_back(compare_quantize(device, Dtype::BF16, all16, bf16_scales, 0, 0));
  checks.push_back(compare_quantize(device, Dtype::F16, all16, sweep_scales(Dtype::F16), 0, 0));
  const std::vector<float> few_scales(bf16_scales.begin(), bf16_scales.begin() + 8);
  for (std::size_t source_offset : {2u, 6u, 14u}) {
    for (std::size_t out_offset : {1u, 3u, 8u}) {
      checks.push_back(compare_quantize(device, Dtype::BF16,
                                        std::vector<uint8_t>(all16.begin(), all16.end() - 6),
                                        few_scales, source_offset, out_offset));
    }
  }
  const std::vector<uint8_t> f32 = random_f32_bytes((std::size_t{1} << 18) + 3);
  checks.push_back(compare_quantize(device, Dtype::F32, f32, sweep_scales(Dtype::F32), 0, 0));
  checks.push_back(compare_quantize(device, Dtype::F32, f32, few_scales, 4, 5));
  checks.push_back(compare_scales(device, Dtype::BF16, magnitudes_below(kBf16NonFiniteMagnitude)));
  checks.push_back(compare_scales(device, Dtype::F16, magnitudes_below(kF16NonFiniteMagnitude)));
  std::vector<uint32_t> f32_magnitudes{0,           1,           0x007FFFFFu, 0x00800000u,
                                       0x3F800000u, 0x43E00000u, 0x7F7FFFFFu};
  std::mt19937 random(11);
  for (int k = 0; k < 4096; ++k) f32_magnitudes.push_back(static_cast<uint32_t>(random() % kF32NonFiniteMagnitude));
  checks.push_back(compare_scales(device, Dtype::F32, f32_magnitudes));
  return checks;
}

}  // namespace qfp8::selftest
