// test_sources_dtypes.cpp — F16 and F32 sources quantize like BF16 ones
// (docs/format.md#numerics: scale = amax / 448, codes the nearest E4M3FN value, ties to even,
// saturating), and `--keep-dtype bf16` rounds kept F16/F32 tensors to BF16 (nearest even) while
// BF16 and non-float tensors stay as they are. Expectations are computed here, by brute force.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "plan/conversion_plan.hpp"
#include "safetensors/reader.hpp"
#include "support/convert_checks.hpp"
#include "support/fp8_file_builder.hpp"
#include "support/legacy_convert.hpp"
#include "verify/verify.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

/// Values exact in F16 (7 mantissa bits, exponents 2^-10 .. 2^3), some exact zeros.
std::vector<float> f16_exact_values(std::size_t count, uint32_t seed) {
  std::vector<float> values;
  uint32_t state = seed * 747796405u + 2891336453u;
  for (std::size_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    const int exponent = static_cast<int>((state >> 8) % 14u) - 10;
    float value = std::ldexp(1.0f + static_cast<float>((state >> 16) & 0x7Fu) / 128.0f, exponent);
    if ((state >> 27) == 0) value = 0.0f;
    if ((state & 1u) != 0) value = -value;
    values.push_back(value);
  }
  return values;
}

/// Arbitrary float32 values (full 23-bit mantissas) in about ±3.
std::vector<float> f32_values(std::size_t count, uint32_t seed) {
  std::vector<float> values;
  uint32_t state = seed;
  for (std::size_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    values.push_back((static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * 6.0f);
  }
  return values;
}

TensorBlob f16_tensor(std::string name, std::vector<uint64_t> shape, const std::vector<float>& values) {
  TensorBlob blob{std::move(name), Dtype::F16, std::move(shape), {}};
  for (const float value : values) {
    const uint16_t bits = f16_exact_bits(value);
    blob.data.push_back(static_cast<uint8_t>(bits & 0xFFu));
    blob.data.push_back(static_cast<uint8_t>(bits >> 8));
  }
  return blob;
}

/// The E4M3FN code nearest to x (ties to the even code, beyond ±448 saturating), found
/// by trying every finite magnitude.
uint8_t nearest_code(float x) {
  const double magnitude = std::fabs(static_cast<double>(x));
  uint8_t best = 0;
  for (unsigned code = 1; code <= 0x7E; ++code) {
    const double d_code = std::fabs(e4m3_value(static_cast<uint8_t>(code)) - magnitude);
    const double d_best = std::fabs(e4m3_value(best) - magnitude);
    if (d_code < d_best || (d_code == d_best && (code & 1u) == 0)) best = static_cast<uint8_t>(code);
  }
  return static_cast<uint8_t>((std::signbit(x) ? 0x80 : 0) | best);
}

/// Checks `out`'s FP8 weight `name` against `values` (the source, as floats).
void check_quantized(const SafetensorsFile& out, const std::string& layer,
                     const std::vector<float>& values) {
  const TensorInfo* weight = out.find(layer + ".weight");
  REQUIRE(weight != nullptr);
  REQUIRE(weight->dtype == Dtype::F8_E4M3);
  float amax = 0.0f;
  for (const float value : values) amax = std::max(amax, std::fabs(value));
  const float scale = amax / 448.0f;
  CHECK(f32_at(out.bytes(*out.find(layer + ".weight_scale")).data, 0) == scale);
  const ByteView codes = out.bytes(*weight);
  REQUIRE(codes.size == values.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (codes.data[i] != nearest_code(values[i] / scale)) ++mismatches;
  }
  CHECK(mismatches == 0);
}

/// F32 values whose BF16 rounding is not a truncation: ties both ways, carries, the
/// largest finite float (rounds to Inf), a subnormal.
std::vector<float> rounding_cases() {
  return {1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8),
          -(1.0f + 3 * std::ldexp(1.0f, -8)), 1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20),
          0.1f, -2.7182817f, 3.1415927f, FLT_MAX, std::ldexp(1.0f, -140), 0.0f,
          1.9999999f, 65504.0f, -1e-30f, 123456.789f, 7.0f, -0.0f};
}

FileImage mixed_source() {
  FileImage image;
  image.tensors.push_back(f16_tensor("h.weight", {64, 64}, f16_exact_values(4096, 1)));
  image.tensors.push_back(f32_tensor("f.weight", {64, 64}, f32_values(4096, 2)));
  image.tensors.push_back(f32_tensor("f.bias", {16}, rounding_cases()));
  image.tensors.push_back(f16_tensor("h.bias", {16}, f16_exact_values(16, 3)));
  image.tensors.push_back(bf16_tensor("b.bias", {8}, sample_weights(8, 4)));
  image.tensors.push_back({"steps", Dtype::I64, {1}, Bytes(8, 3)});
  image.metadata["format"] = "pt";
  return image;
}

}  // namespace

TEST_CASE("F16 and F32 weights quantize to the nearest E4M3FN codes", "[sources]") {
  const std::string dir = scratch_dir("sources_dtypes");
  write_image(dir + "/in.safetensors", mixed_source());
  const ConversionPlan plan = convert_file(dir + "/in.safetensors", dir + "/out.safetensors", {});
  CHECK(plan.quantized_count == 2);
  const SafetensorsFile out(dir + "/out.safetensors");
  check_quantized(out, "h", f16_exact_values(4096, 1));
  check_quantized(out, "f", f32_values(4096, 2));
  // Without --keep-dtype kept tensors keep their dtype and bytes.
  const SafetensorsFile in(dir + "/in.safetensors");
  for (const char* name : {"f.bias", "h.bias", "b.bias", "steps"}) {
    CHECK(out.find(name)->dtype == in.find(name)->dtype);
    const ByteView a = out.bytes(*out.find(name));
    const ByteView b = in.bytes(*in.find(name));
    CHECK(Bytes(a.data, a.data + a.size) == Bytes(b.data, b.data + b.size));
  }
  const verify::VerifyResult result = verify::verify_file(dir + "/out.safetensors", {});
  INFO(verify::failure_summary(result));
  CHECK(result.passed());
}

TEST_CASE("keep-dtype bf16 rounds kept F32 and F16 tensors to nearest even", "[sources]") {
  const std::string dir = scratch_dir("sources_keep_bf16");
  write_image(dir + "/in.safetensors", mixed_source());
  PlanOptions options;
  options.keep_as_bf16 = true;
  const ConversionPlan plan = convert_file(dir + "/in.safetensors", dir + "/out.safetensors", options);
  const SafetensorsFile out(dir + "/out.safetensors");
  const SafetensorsFile in(dir + "/in.safetensors");

  const TensorInfo* f_bias = out.find("f.bias");
  REQUIRE(f_bias->dtype == Dtype::BF16);
  CHECK(f_bias->shape == std::vector<uint64_t>{16});
  const auto cases = rounding_cases();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("value " << cases[i]);
    CHECK(u16_at(out.bytes(*f_bias).data, i) == bf16_nearest_even(cases[i]));
  }
  // Hand-checked anchors: ties go to even, FLT_MAX rounds up to Inf.
  CHECK(u16_at(out.bytes(*f_bias).data, 0) == 0x3F80);
  CHECK(u16_at(out.bytes(*f_bias).data, 1) == 0x3F82);
  CHECK(u16_at(out.bytes(*f_bias).data, 7) == 0x7F80);

  const TensorInfo* h_bias = out.find("h.bias");
  REQUIRE(h_bias->dtype == Dtype::BF16);
  const auto halves = f16_exact_values(16, 3);
  for (std::size_t i = 0; i < halves.size(); ++i) {
    CHECK(u16_at(out.bytes(*h_bias).data, i) == bf16_nearest_even(halves[i]));
  }
  // BF16 and integer tensors are untouched; quantized weights are still FP8.
  CHECK(out.find("b.bias")->dtype == Dtype::BF16);
  CHECK(out.find("steps")->dtype == Dtype::I64);
  CHECK(out.find("h.weight")->dtype == Dtype::F8_E4M3);
  for (const auto& decision : plan.decisions) {
    if (decision.name == "f.bias") CHECK(decision.reason == "keep: not .weight, as BF16");
    if (decision.name == "b.bias") CHECK(decision.reason == "keep: not .weight");
  }
  const verify::VerifyResult result = verify::verify_file(dir + "/out.safetensors", {});
  INFO(verify::failure_summary(result));
  CHECK(result.passed());
}
