// test_dequantize_formats.cpp — dequantize of float8_e5m2, mxfp8 and nvfp4 layers: files of
// hand-picked codes and scales, whose every BF16 result is computed here from the format
// definitions (docs/format.md#numerics-e5m2, #numerics-mxfp8, #numerics-nvfp4, the blocked
// layout of #blocked-scales) in float32 and rounded to nearest even; the output has the
// model's shape and loses every companion.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "dequantize/dequantize.hpp"
#include "safetensors/reader.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/legacy_convert.hpp"
#include "support/quant_format_fixtures.hpp"
#include "verify/verify.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

DequantizePlan dequantize_file(const std::string& in, const std::string& out) {
  const SafetensorsFile input(in);
  DequantizePlan plan =
      make_dequantize_plan(input, verify::require_valid_format(input, 1, "dequantize"));
  dequantize_to_file(input, plan, out, true);
  return plan;
}

Bytes tensor_bytes(const SafetensorsFile& file, const std::string& name) {
  const TensorInfo* tensor = file.find(name);
  REQUIRE(tensor != nullptr);
  const ByteView view = file.bytes(*tensor);
  return Bytes(view.data, view.data + view.size);
}

/// Byte of (row, block) in blocked scales `padded_blocks` wide: docs/format.md#blocked-scales.
uint64_t doc_scale_offset(uint64_t row, uint64_t block, uint64_t padded_blocks) {
  return ((row / 128) * (padded_blocks / 4) + block / 4) * 512 + (row % 32) * 16 +
         ((row % 128) / 32) * 4 + block % 4;
}

/// E5M2: sign, 5 exponent bits (bias 15), 2 mantissa bits, subnormals m * 2^-16.
double e5m2_definition(uint8_t code) {
  const double sign = (code & 0x80) ? -1.0 : 1.0;
  const int exponent = (code >> 2) & 0x1F;
  const int mantissa = code & 3;
  if (exponent == 0) return sign * std::ldexp(mantissa, -16);
  return sign * std::ldexp(1.0 + mantissa / 4.0, exponent - 15);
}

/// E2M1: magnitudes {0, 0.5, 1, 1.5, 2, 3, 4, 6} by the low 3 bits, 0x8 the sign.
double e2m1_definition(uint8_t nibble) {
  const double magnitudes[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};
  return (nibble & 8) ? -magnitudes[nibble & 7] : magnitudes[nibble & 7];
}

/// E8M0 as comfy-kitchen decodes it: 2^(code - 127), code 0 as 0.
float e8m0_definition(uint8_t code) {
  return code == 0 ? 0.0f : static_cast<float>(std::ldexp(1.0, code - 127));
}

Bytes f32_bytes(float value) {
  Bytes out(4);
  std::memcpy(out.data(), &value, 4);
  return out;
}

/// One layer `name` in `format` with these tensors, declared in the metadata and by its
/// `.comfy_quant`, plus a kept bias.
FileImage one_layer_file(const std::string& name, QuantFormat format,
                         std::vector<TensorBlob> tensors) {
  FileImage image;
  image.tensors = std::move(tensors);
  image.tensors.push_back(text_tensor(name + ".comfy_quant", format_config_text(format)));
  image.tensors.push_back(bf16_tensor(name + ".bias", {2}, {1.0f, -2.0f}));
  image.metadata["_quantization_metadata"] = format_metadata_text({{name, format}});
  return image;
}

/// Counts the BF16 elements of `name` in `out` that differ from expected(row, col).
template <typename Expected>
std::size_t mismatches(const SafetensorsFile& out, const std::string& name, uint64_t rows,
                       uint64_t cols, Expected expected) {
  const TensorInfo* tensor = out.find(name);
  REQUIRE(tensor != nullptr);
  CHECK(tensor->dtype == Dtype::BF16);
  CHECK(tensor->shape == std::vector<uint64_t>{rows, cols});
  const Bytes bf16 = tensor_bytes(out, name);
  std::size_t count = 0;
  for (uint64_t r = 0; r < rows; ++r) {
    for (uint64_t c = 0; c < cols; ++c) {
      if (u16_at(bf16.data(), r * cols + c) != bf16_nearest_even(expected(r, c))) ++count;
    }
  }
  return count;
}

}  // namespace

TEST_CASE("dequantized float8_e5m2 is bf16 of the E5M2 value times the scale",
          "[dequantize][formats]") {
  const std::string dir = scratch_dir("dequantize_e5m2");
  Bytes codes;  // every finite E5M2 code
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7C) != 0x7C) codes.push_back(static_cast<uint8_t>(code));
  }
  const float scale = 0.3125f;  // 5 / 16
  write_image(dir + "/in.safetensors", one_layer_file("e", QuantFormat::Float8E5m2,
                                                      {{"e.weight", Dtype::F8_E5M2, {4, 62}, codes},
                                                       f32_tensor("e.weight_scale", {}, {scale})}));
  const DequantizePlan plan = dequantize_file(dir + "/in.safetensors", dir + "/out.safetensors");
  CHECK(plan.layers == 1);
  CHECK(plan.dropped == 2);  // weight_scale, comfy_quant
  const SafetensorsFile out(dir + "/out.safetensors");
  CHECK(mismatches(out, "e.weight", 4, 62, [&](uint64_t r, uint64_t c) {
          return static_cast<float>(e5m2_definition(codes[r * 62 + c])) * scale;
        }) == 0);
  CHECK(out.find("e.weight_scale") == nullptr);
  CHECK(out.find("e.bias") != nullptr);
}

TEST_CASE("dequantized mxfp8 is bf16 of e4m3 times 2^(code - 127), code 0 giving 0",
          "[dequantize][formats]") {
  // [160, 160]: 5 blocks a row, blocked scales [256, 8]: two rows and two columns of tiles.
  const std::string dir = scratch_dir("dequantize_mxfp8");
  const uint64_t rows = 160, cols = 160, blocks = 5, padded = 8;
  Bytes data(rows * cols);
  for (uint64_t i = 0; i < data.size(); ++i) {
    uint8_t code = static_cast<uint8_t>((i * 31 + i / 7) % 256);
    if ((code & 0x7F) == 0x7F) code = static_cast<uint8_t>(code - 1);  // no NaN codes
    data[i] = code;
  }
  Bytes scales(256 * padded, 0);
  for (uint64_t r = 0; r < rows; ++r) {
    for (uint64_t b = 0; b < blocks; ++b) {
      // Mostly 2^-30 .. 2^29; every 17th block code 0, some code 1 (subnormal products).
      uint8_t code = static_cast<uint8_t>(97 + (r * 13 + b * 29) % 60);
      if ((r + b) % 23 == 0) code = 1;
      if ((r + b) % 17 == 0) code = 0;
      scales[doc_scale_offset(r, b, padded)] = code;
    }
  }
  write_image(dir + "/in.safetensors",
              one_layer_file("m", QuantFormat::Mxfp8,
                             {{"m.weight", Dtype::F8_E4M3, {rows, cols}, data},
                              {"m.weight_scale", Dtype::F8_E8M0, {256, padded}, scales}}));
  const DequantizePlan plan = dequantize_file(dir + "/in.safetensors", dir + "/out.safetensors");
  CHECK(plan.layers == 1);
  const SafetensorsFile out(dir + "/out.safetensors");
  CHECK(mismatches(out, "m.weight", rows, cols, [&](uint64_t r, uint64_t c) {
          const uint8_t code = scales[doc_scale_offset(r, c / 32, padded)];
          return static_cast<float>(e4m3_value(data[r * cols + c])) * e8m0_definition(code);
        }) == 0);
  // A block whose code is 0 decodes to zeros, whatever its data (row 0, block 0: 0 + 0).
  const Bytes bf16 = tensor_bytes(out, "m.weight");
  for (uint64_t c = 0; c < 32; ++c) CHECK((u16_at(bf16.data(), c) & 0x7FFF) == 0);
}

TEST_CASE("dequantized nvfp4 is bf16 of (e2m1 x e4m3 block scale) x weight_scale_2",
          "[dequantize][formats]") {
  // [144, 80]: 5 blocks of 16 a row, packed [144, 40], blocked scales [256, 8].
  const std::string dir = scratch_dir("dequantize_nvfp4");
  const uint64_t rows = 144, cols = 80, blocks = 5, padded = 8;
  Bytes packed(rows * cols / 2);
  for (uint64_t i = 0; i < packed.size(); ++i)
    packed[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
  Bytes scales(256 * padded, 0);
  for (uint64_t r = 0; r < rows; ++r) {
    for (uint64_t b = 0; b < blocks; ++b) {
      scales[doc_scale_offset(r, b, padded)] = static_cast<uint8_t>((r * 7 + b * 3) % 0x7F);
    }
  }
  const float scale_2 = 0.0478515625f;  // 49 / 1024
  write_image(dir + "/in.safetensors",
              one_layer_file("n", QuantFormat::Nvfp4,
                             {{"n.weight", Dtype::U8, {rows, cols / 2}, packed},
                              {"n.weight_scale", Dtype::F8_E4M3, {256, padded}, scales},
                              {"n.weight_scale_2", Dtype::F32, {}, f32_bytes(scale_2)}}));
  const DequantizePlan plan = dequantize_file(dir + "/in.safetensors", dir + "/out.safetensors");
  CHECK(plan.layers == 1);
  CHECK(plan.dropped == 3);  // weight_scale, weight_scale_2, comfy_quant
  const SafetensorsFile out(dir + "/out.safetensors");
  CHECK(mismatches(out, "n.weight", rows, cols, [&](uint64_t r, uint64_t c) {
          const uint8_t byte = packed[r * (cols / 2) + c / 2];
          const uint8_t nibble = c % 2 == 0 ? static_cast<uint8_t>(byte >> 4) : byte & 0x0F;
          const float block =
              static_cast<float>(e4m3_value(scales[doc_scale_offset(r, c / 16, padded)]));
          const float product = static_cast<float>(e2m1_definition(nibble)) * block;  // float32
          return product * scale_2;
        }) == 0);
  CHECK(out.find("n.weight_scale_2") == nullptr);
}

TEST_CASE("dequantize restores a mixed-format conversion's shapes and drops its companions",
          "[dequantize][formats][cli]") {
  const std::string dir = scratch_dir("dequantize_mixed");
  const FileImage source = format_source_model();
  write_image(dir + "/in.safetensors",
              quantize_image_as(
                  source, {{kFormatQ, QuantFormat::Nvfp4}, {kFormatFc1, QuantFormat::Mxfp8}}));
  remove_path(dir + "/out.safetensors");
  const ChildResult run = run_child(
      {QFP8_BINARY, "dequantize", dir + "/in.safetensors", dir + "/out.safetensors"}, dir);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const SafetensorsFile out(dir + "/out.safetensors");
  REQUIRE(out.header().tensors.size() == source.tensors.size());
  for (const auto& tensor : source.tensors) {
    const TensorInfo* back = out.find(tensor.name);
    REQUIRE(back != nullptr);
    CHECK(back->dtype == Dtype::BF16);
    CHECK(back->shape == tensor.shape);
  }
  CHECK(out.header().metadata == source.metadata);
}
