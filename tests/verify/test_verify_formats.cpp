// test_verify_formats.cpp — verify on the other formats (docs/format.md#formats,
// #verification): a correct float8_e5m2, mxfp8, nvfp4 and mixed file passes, and each file
// that breaks ONE rule of its format fails naming that rule, its layer or tensor, and the
// file's facts in the message.
#include <catch2/catch.hpp>

#include <cstdio>
#include <limits>

#include "core/block_formats.hpp"
#include "support/quant_format_fixtures.hpp"
#include "verify/verify.hpp"
#include "verify/verify_report.hpp"

using namespace qfp8;
using namespace qfp8::test;
using verify::Severity;
using verify::VerifyResult;

namespace {

const std::string kQ = kFormatQ;
const std::string kFc1 = kFormatFc1;

VerifyResult verify_image(const std::string& name, const FileImage& image) {
  const std::string path = write_image(temp_path("verify_formats_" + name + ".safetensors"), image);
  verify::VerifyOptions options;
  options.threads = 2;
  return verify::verify_file(path, options);
}

/// The finding of rule `id` on `subject`, or null.
const verify::Finding* finding_of(const VerifyResult& result, const std::string& id,
                                  const std::string& subject, Severity severity = Severity::Err) {
  for (const auto* finding : result.with_id(id)) {
    if (finding->subject == subject && finding->severity == severity) return finding;
  }
  return nullptr;
}

/// Asserts that the file fails with exactly one error, rule `id` on `subject`, whose message
/// contains `detail`.
void require_only_error(const std::string& name, const FileImage& image, const std::string& id,
                        const std::string& subject, const std::string& detail) {
  const VerifyResult result = verify_image(name, image);
  INFO(verify::format_text_report(result));
  CHECK(result.error_count() == 1);
  const verify::Finding* finding = finding_of(result, id, subject);
  REQUIRE(finding != nullptr);
  CHECK(finding->message.find(detail) != std::string::npos);
}

/// Byte offset of block `block` of row `row` in a blocked scale tensor `padded_cols` wide.
uint64_t scale_byte(uint64_t row, uint64_t block, uint64_t padded_cols) {
  return blocked_scale_offset(row, block, padded_cols);
}

}  // namespace

TEST_CASE("verify passes correct float8_e5m2, mxfp8, nvfp4 and mixed files", "[verify][formats]") {
  const std::map<std::string, FileImage> files = {
      {"e5m2", format_output(QuantFormat::Float8E5m2)},
      {"mxfp8", format_output(QuantFormat::Mxfp8)},
      {"nvfp4", format_output(QuantFormat::Nvfp4)},
      {"mixed", quantize_image_as(format_source_model(),
                                  {{kQ, QuantFormat::Nvfp4}, {kFc1, QuantFormat::Mxfp8}})},
  };
  for (const auto& [name, image] : files) {
    const VerifyResult result = verify_image(name, image);
    INFO(name << "\n" << verify::format_text_report(result));
    CHECK(result.passed());
    CHECK(result.warning_count() == 0);
    CHECK(result.layers_verified == 2);
    CHECK(finding_of(result, "NanCode", "", Severity::Ok) != nullptr);
  }
  const VerifyResult mixed = verify_image("mixed", files.at("mixed"));
  const verify::Finding* layers = finding_of(mixed, "Layers", "", Severity::Ok);
  REQUIRE(layers != nullptr);
  CHECK(layers->message.find("2 layer(s) (1 mxfp8, 1 nvfp4)") == 0);
}

TEST_CASE("verify names a format it does not know and lists the supported ones",
          "[verify][formats]") {
  FileImage image = format_output(QuantFormat::Nvfp4);
  image.metadata["_quantization_metadata"] = format_metadata_text({{kFc1, QuantFormat::Nvfp4}});
  image.metadata["_quantization_metadata"].insert(
      image.metadata["_quantization_metadata"].find("\"blocks.0.mlp"),
      "\"" + kQ + R"(": {"format": "nvfp8"}, )");
  image.put(text_tensor(kQ + ".comfy_quant", R"({"format": "nvfp8"})"));
  require_only_error("unknown_format", image, "InvalidLayerConfig", kQ,
                     "layer config format must be one of float8_e4m3fn, float8_e5m2, mxfp8, "
                     "nvfp4: {\"format\":\"nvfp8\"}");
}

TEST_CASE("verify checks each format's weight dtype and shape", "[verify][formats]") {
  FileImage dtype = format_output(QuantFormat::Nvfp4);
  dtype.at(kQ + ".weight").dtype = Dtype::I8;  // same bytes
  require_only_error("nvfp4_weight_dtype", dtype, "WeightDtype", kQ, "is I8, must be U8 (nvfp4)");

  FileImage e5m2 = format_output(QuantFormat::Float8E5m2);
  e5m2.at(kFc1 + ".weight").dtype = Dtype::U8;
  require_only_error("e5m2_weight_dtype", e5m2, "WeightDtype", kFc1,
                     "is U8, must be F8_E5M2 (float8_e5m2)");

  // [32, 32] packed nvfp4 bytes read as [256, 4]: a [256, 8] weight, 8 columns.
  FileImage shape = format_output(QuantFormat::Nvfp4);
  shape.at(kQ + ".weight").shape = {256, 4};
  require_only_error("nvfp4_weight_shape", shape, "WeightShape", kQ,
                     "has shape [256, 4] (packed pairs of a [256, 8] weight): 8 columns are not "
                     "a multiple of nvfp4's 16-element blocks");

  FileImage rows = format_output(QuantFormat::Mxfp8);
  rows.at(kQ + ".weight").shape = {16, 128};  // 16 rows: half an mxfp8 block
  require_only_error("mxfp8_weight_rows", rows, "WeightShape", kQ,
                     "16 rows are not a multiple of mxfp8's 32-element blocks");
}

TEST_CASE("verify checks nvfp4's weight_scale_2 like a scale", "[verify][formats]") {
  const std::string scale_2 = kQ + ".weight_scale_2";
  FileImage missing = format_output(QuantFormat::Nvfp4);
  missing.erase(scale_2);
  require_only_error("scale2_missing", missing, "MissingWeightScale2", kQ,
                     "nvfp4 layer has no '" + scale_2 + "'");

  FileImage bf16 = format_output(QuantFormat::Nvfp4);
  bf16.put(bf16_tensor(scale_2, {}, {1.0f}));
  require_only_error("scale2_dtype", bf16, "ScaleDtype", kQ, "'" + scale_2 + "' is BF16");

  FileImage two = format_output(QuantFormat::Nvfp4);
  two.put(f32_tensor(scale_2, {2}, {1.0f, 1.0f}));
  require_only_error("scale2_shape", two, "ScaleShape", kQ, "'" + scale_2 + "' has shape [2]");

  FileImage nan = format_output(QuantFormat::Nvfp4);
  nan.put(f32_tensor(scale_2, {}, {std::numeric_limits<float>::quiet_NaN()}));
  require_only_error("scale2_nan", nan, "ScaleNotFinite", kQ, "'" + scale_2 + "' is");

  FileImage zero = format_output(QuantFormat::Nvfp4);
  zero.put(f32_tensor(scale_2, {}, {0.0f}));
  require_only_error("scale2_zero", zero, "ScaleNotPositive", kQ, "must be > 0");

  // float8_e5m2's weight_scale follows the same rules.
  FileImage e5m2 = format_output(QuantFormat::Float8E5m2);
  e5m2.put(f32_tensor(kFc1 + ".weight_scale", {}, {-2.0f}));
  require_only_error("e5m2_scale_negative", e5m2, "ScaleNotPositive", kFc1, "must be > 0");

  // A weight_scale_2 on a layer whose format has none.
  FileImage stray = format_output(QuantFormat::Mxfp8);
  stray.put(f32_tensor(kQ + ".weight_scale_2", {}, {1.0f}));
  require_only_error("scale2_stray", stray, "StrayCompanion", kQ,
                     "belongs to no nvfp4 layer: the layer is mxfp8");
}

TEST_CASE("verify checks the blocked scales' dtype and exact shape", "[verify][formats]") {
  FileImage dtype = format_output(QuantFormat::Mxfp8);
  dtype.at(kQ + ".weight_scale").dtype = Dtype::U8;
  require_only_error("block_dtype", dtype, "BlockScaleDtype", kQ,
                     "is U8, must be F8_E8M0 (mxfp8 block scales)");

  FileImage nvfp4 = format_output(QuantFormat::Nvfp4);
  nvfp4.at(kFc1 + ".weight_scale").dtype = Dtype::F8_E8M0;
  require_only_error("nvfp4_block_dtype", nvfp4, "BlockScaleDtype", kFc1,
                     "is F8_E8M0, must be F8_E4M3 (nvfp4 block scales)");

  // The unpadded [32, 2] matrix's 512 padded bytes, reshaped.
  FileImage shape = format_output(QuantFormat::Mxfp8);
  shape.at(kQ + ".weight_scale").shape = {256, 2};
  require_only_error("block_shape", shape, "BlockScaleShape", kQ,
                     "has shape [256, 2], must be [128, 4] (the blocked scales of a [32, 64] "
                     "weight)");
}

TEST_CASE("verify finds negative nvfp4 block scales and nonzero padding", "[verify][formats]") {
  // kQ: [32, 64] -> nvfp4 blocks [32, 4], padded [128, 4]; mxfp8 blocks [32, 2], padded [128, 4].
  FileImage negative = format_output(QuantFormat::Nvfp4);
  uint8_t& code = negative.at(kQ + ".weight_scale").data[scale_byte(3, 1, 4)];
  REQUIRE(code != 0x7F);
  code |= 0x80;
  const std::string code_text = [&] {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02x", code);
    return std::string(text);
  }();
  require_only_error(
      "block_negative", negative, "BlockScaleNegative", kQ,
      "1 block scale code(s) with the sign bit set; first at row 3, block 1: " + code_text);

  FileImage rows = format_output(QuantFormat::Nvfp4);
  rows.at(kQ + ".weight_scale").data[scale_byte(40, 0, 4)] = 0x01;  // row 40 of 32
  require_only_error("padding_rows", rows, "BlockScalePadding", kQ,
                     "1 nonzero code(s) in its padding; first at byte " +
                         std::to_string(scale_byte(40, 0, 4)) + " (row 40, block 0)");

  FileImage blocks = format_output(QuantFormat::Mxfp8);
  blocks.at(kQ + ".weight_scale").data[scale_byte(0, 3, 4)] = 0x7F;  // block 3 of 2
  blocks.at(kQ + ".weight_scale").data[scale_byte(31, 2, 4)] = 0x01;
  require_only_error("padding_blocks", blocks, "BlockScalePadding", kQ,
                     "2 nonzero code(s) in its padding; first at byte 3 (row 0, block 3)");
}

TEST_CASE("verify finds the non-finite codes of each format", "[verify][formats]") {
  struct Case {
    const char* name;
    QuantFormat format;
    std::string tensor;
    uint64_t index;
    uint8_t code;
    const char* what;
  };
  const std::vector<Case> cases = {
      {"mxfp8_data", QuantFormat::Mxfp8, kQ + ".weight", 70, 0xFF, "NaN code(s) (0x7F/0xFF)"},
      {"mxfp8_scale", QuantFormat::Mxfp8, kFc1 + ".weight_scale", 16, 0xFF, "NaN code(s) (0xFF)"},
      {"nvfp4_scale", QuantFormat::Nvfp4, kQ + ".weight_scale", 17, 0x7F,
       "NaN code(s) (0x7F/0xFF)"},
      {"e5m2_inf", QuantFormat::Float8E5m2, kQ + ".weight", 5, 0x7C,
       "Inf/NaN code(s) (0x7C-0x7F/0xFC-0xFF)"},
      {"e5m2_nan", QuantFormat::Float8E5m2, kFc1 + ".weight", 9, 0xFD,
       "Inf/NaN code(s) (0x7C-0x7F/0xFC-0xFF)"},
  };
  for (const Case& c : cases) {
    FileImage image = format_output(c.format);
    image.at(c.tensor).data[c.index] = c.code;
    INFO(c.name);
    require_only_error(
        std::string("nan_") + c.name, image, "NanCode", c.tensor,
        std::string("1 ") + c.what + ", first at element " + std::to_string(c.index));
  }
  // E2M1 has no such code: every byte of nvfp4 data is finite.
  FileImage all_ones = format_output(QuantFormat::Nvfp4);
  for (auto& byte : all_ones.at(kQ + ".weight").data) byte = 0xFF;
  CHECK(verify_image("nvfp4_all_ones", all_ones).passed());
}

TEST_CASE("verify reports an undeclared F8_E5M2 weight and checks comfy_quant per format",
          "[verify][formats]") {
  FileImage undeclared = format_output(QuantFormat::Float8E5m2);
  undeclared.metadata["_quantization_metadata"] =
      format_metadata_text({{kFc1, QuantFormat::Float8E5m2}});
  undeclared.erase(kQ + ".weight_scale");
  undeclared.erase(kQ + ".comfy_quant");
  require_only_error("undeclared_e5m2", undeclared, "UndeclaredFp8Weight", kQ,
                     "is F8_E5M2 but not declared in '_quantization_metadata'");

  FileImage mismatch = format_output(QuantFormat::Nvfp4);
  mismatch.put(text_tensor(kQ + ".comfy_quant", format_config_text(QuantFormat::Mxfp8)));
  require_only_error("comfy_mismatch", mismatch, "ComfyQuantMismatch", kQ,
                     R"(holds {"format":"mxfp8"} but the metadata declares {"format":"nvfp4"})");

  FileImage compact = format_output(QuantFormat::Nvfp4);
  compact.put(text_tensor(kQ + ".comfy_quant", R"({"format":"nvfp4"})"));
  const VerifyResult result = verify_image("comfy_compact", compact);
  CHECK(result.passed());
  const verify::Finding* warning = finding_of(result, "ComfyQuantNotCanonical", kQ, Severity::Warn);
  REQUIRE(warning != nullptr);
  CHECK(warning->message.find(R"(expected '{"format": "nvfp4"}')") != std::string::npos);
}

TEST_CASE("verify accepts nvfp4 layers declared only by .comfy_quant tensors",
          "[verify][formats]") {
  FileImage image = format_output(QuantFormat::Nvfp4);
  image.metadata.erase("_quantization_metadata");
  const VerifyResult result = verify_image("nvfp4_comfy_only", image);
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  CHECK(result.warning_count() == 1);
  CHECK(finding_of(result, "MissingQuantizationMetadata", "", Severity::Warn) != nullptr);
}
