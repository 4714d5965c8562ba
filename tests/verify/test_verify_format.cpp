// test_verify_format.cpp — one small file per format rule (docs/format.md#container, #layer,
// #verification): each breaks exactly ONE rule of a correct conversion and verify must name that
// rule and layer.
#include <catch2/catch.hpp>

#include <limits>

#include "support/fp8_file_builder.hpp"
#include "verify/verify.hpp"
#include "verify/verify_report.hpp"

using namespace qfp8;
using namespace qfp8::test;
using verify::Severity;
using verify::VerifyResult;

namespace {

const std::string kQ = "blocks.0.attn.to_q";
const std::string kFc1 = "blocks.0.mlp.fc1";

VerifyResult verify_image(const std::string& name, const FileImage& image) {
  const std::string path = write_image(temp_path("verify_fmt_" + name + ".safetensors"), image);
  verify::VerifyOptions options;
  options.threads = 2;
  return verify::verify_file(path, options);
}

bool has_finding(const VerifyResult& result, const std::string& id, const std::string& subject,
                 Severity severity = Severity::Err) {
  for (const auto* finding : result.with_id(id)) {
    if (finding->subject == subject && finding->severity == severity) return true;
  }
  return false;
}

FileImage good_output() {
  return quantize_image(small_source_model(), small_model_layers());
}

/// Asserts the file fails with exactly this rule on exactly this subject.
void require_fails_with(const std::string& name, const FileImage& image, const std::string& id,
                        const std::string& subject) {
  const VerifyResult result = verify_image(name, image);
  INFO(verify::format_text_report(result));
  CHECK_FALSE(result.passed());
  CHECK(has_finding(result, id, subject));
}

}  // namespace

TEST_CASE("verify passes a correct conversion", "[verify]") {
  const VerifyResult result = verify_image("good", good_output());
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  CHECK(result.warning_count() == 0);
  CHECK(result.layers_verified == 2);
  CHECK_FALSE(result.legacy_layout);
  CHECK(has_finding(result, "NanCode", "", Severity::Ok));
  const std::string text = verify::format_text_report(result);
  CHECK(text.find("[PASS] 2 layers verified\n") != std::string::npos);
}

TEST_CASE("verify names a missing weight_scale", "[verify]") {
  FileImage image = good_output();
  image.erase(kQ + ".weight_scale");
  require_fails_with("missing_scale", image, "MissingWeightScale", kQ);
}

TEST_CASE("verify rejects an F16 scale", "[verify]") {
  FileImage image = good_output();
  image.put({kQ + ".weight_scale", Dtype::F16, {}, {0x00, 0x3C}});  // 1.0 in binary16
  require_fails_with("f16_scale", image, "ScaleDtype", kQ);
}

TEST_CASE("verify rejects a [2]-shaped scale and warns on [1]", "[verify]") {
  FileImage two = good_output();
  two.put(f32_tensor(kQ + ".weight_scale", {2}, {0.5f, 0.5f}));
  require_fails_with("scale_2", two, "ScaleShape", kQ);

  FileImage one = good_output();
  const float scale = [&] {
    float value;
    std::memcpy(&value, one.at(kQ + ".weight_scale").data.data(), 4);
    return value;
  }();
  one.put(f32_tensor(kQ + ".weight_scale", {1}, {scale}));
  const VerifyResult result = verify_image("scale_1", one);
  CHECK(result.passed());
  CHECK(has_finding(result, "ScaleShape", kQ, Severity::Warn));
}

TEST_CASE("verify rejects NaN, zero and negative scales", "[verify]") {
  FileImage nan = good_output();
  nan.put(f32_tensor(kQ + ".weight_scale", {}, {std::numeric_limits<float>::quiet_NaN()}));
  require_fails_with("nan_scale", nan, "ScaleNotFinite", kQ);
  FileImage zero = good_output();
  zero.put(f32_tensor(kFc1 + ".weight_scale", {}, {0.0f}));
  require_fails_with("zero_scale", zero, "ScaleNotPositive", kFc1);
  FileImage negative = good_output();
  negative.put(f32_tensor(kFc1 + ".weight_scale", {}, {-0.25f}));
  require_fails_with("negative_scale", negative, "ScaleNotPositive", kFc1);
}

TEST_CASE("verify checks input_scale like a scale", "[verify]") {
  FileImage image = good_output();
  image.put(f32_tensor(kQ + ".input_scale", {}, {std::numeric_limits<float>::infinity()}));
  require_fails_with("inf_input_scale", image, "InputScaleNotFinite", kQ);
  FileImage good = good_output();
  good.put(f32_tensor(kQ + ".input_scale", {}, {1.0f}));
  CHECK(verify_image("good_input_scale", good).passed());
}

TEST_CASE("verify rejects an FP8 weight not declared in the metadata", "[verify]") {
  FileImage image = good_output();
  image.metadata["_quantization_metadata"] = quantization_metadata_text({kQ});
  require_fails_with("undeclared", image, "UndeclaredFp8Weight", kFc1);
  const VerifyResult result = verify_image("undeclared", image);
  CHECK(has_finding(result, "StrayCompanion", kFc1));
}

TEST_CASE("verify rejects a declared layer without weight", "[verify]") {
  FileImage image = good_output();
  image.erase(kFc1 + ".weight");
  require_fails_with("no_weight", image, "MissingWeight", kFc1);
}

TEST_CASE("verify rejects weights that are not 2-D F8_E4M3", "[verify]") {
  FileImage image = good_output();
  image.at(kQ + ".weight").shape = {128};
  require_fails_with("weight_1d", image, "WeightShape", kQ);
  FileImage u8 = good_output();
  u8.at(kQ + ".weight").dtype = Dtype::U8;
  require_fails_with("weight_u8", u8, "WeightDtype", kQ);
}

TEST_CASE("verify rejects bad _quantization_metadata", "[verify]") {
  FileImage bad_json = good_output();
  bad_json.metadata["_quantization_metadata"] = R"({"format_version": "1.0", "layers": {)";
  require_fails_with("bad_metadata_json", bad_json, "InvalidQuantizationMetadata", "");
  FileImage no_layers = good_output();
  no_layers.metadata["_quantization_metadata"] = R"({"format_version": "1.0", "layers": []})";
  require_fails_with("metadata_layers_array", no_layers, "InvalidQuantizationMetadata", "");
  // Declared nowhere: no metadata entry and no .comfy_quant tensor.
  FileImage missing = quantize_image(small_source_model(), small_model_layers(), false);
  missing.metadata.erase("_quantization_metadata");
  require_fails_with("no_metadata", missing, "MissingQuantizationMetadata", "");
  // One error, not one per FP8 weight and scale that became "undeclared".
  CHECK(verify_image("no_metadata", missing).error_count() == 1);
  CHECK(verify_image("bad_metadata_json", bad_json).error_count() == 1);
  FileImage wrong_format = good_output();
  wrong_format.metadata["_quantization_metadata"] =
      R"({"format_version": "1.0", "layers": {"blocks.0.attn.to_q": {"format": "int8"},)"
      R"( "blocks.0.mlp.fc1": {"format": "float8_e4m3fn"}}})";
  require_fails_with("wrong_format", wrong_format, "InvalidLayerConfig", kQ);
}

TEST_CASE("verify rejects a bad .comfy_quant", "[verify]") {
  FileImage bad_json = good_output();
  bad_json.put(text_tensor(kQ + ".comfy_quant", R"({"format": )"));
  require_fails_with("comfy_bad_json", bad_json, "ComfyQuantInvalid", kQ);
  FileImage bad_utf8 = good_output();
  bad_utf8.put({kQ + ".comfy_quant", Dtype::U8, {3}, {0x22, 0xC3, 0x22}});
  require_fails_with("comfy_bad_utf8", bad_utf8, "ComfyQuantInvalid", kQ);
  FileImage disagree = good_output();
  disagree.put(text_tensor(kFc1 + ".comfy_quant",
                           R"({"format": "float8_e4m3fn", "full_precision_matrix_mult": true})"));
  require_fails_with("comfy_mismatch", disagree, "ComfyQuantMismatch", kFc1);
}

TEST_CASE("verify explains prefixed metadata names over bare tensors", "[verify]") {
  const std::string prefixed = "model.diffusion_model." + kQ;
  FileImage image = good_output();
  image.metadata["_quantization_metadata"] = quantization_metadata_text({prefixed, kFc1});
  require_fails_with("prefix", image, "PrefixMismatch", prefixed);
  const VerifyResult result = verify_image("prefix", image);
  CHECK(result.with_id("UndeclaredFp8Weight").empty());  // explained, not double-reported
  CHECK(result.with_id("MissingWeight").empty());
}

TEST_CASE("verify explains bare metadata names over prefixed tensors", "[verify]") {
  FileImage source;
  for (auto tensor : small_source_model().tensors) {
    tensor.name = "model.diffusion_model." + tensor.name;
    source.tensors.push_back(tensor);
  }
  FileImage image = quantize_image(source, {"model.diffusion_model." + kQ});
  image.metadata["_quantization_metadata"] = quantization_metadata_text({kQ});
  require_fails_with("prefix_reverse", image, "PrefixMismatch", kQ);
}

TEST_CASE("verify finds NaN codes in an FP8 weight", "[verify]") {
  FileImage image = good_output();
  image.at(kFc1 + ".weight").data[5] = 0x7F;
  image.at(kFc1 + ".weight").data[90] = 0xFF;
  const VerifyResult result = verify_image("nan_code", image);
  REQUIRE(result.with_id("NanCode").size() == 1);
  const verify::Finding& finding = *result.with_id("NanCode")[0];
  CHECK(finding.severity == Severity::Err);
  CHECK(finding.subject == kFc1 + ".weight");
  CHECK(finding.message.find("2 NaN code(s)") == 0);
  CHECK(finding.message.find("first at element 5") != std::string::npos);
}

TEST_CASE("verify rejects a stray weight_scale", "[verify]") {
  FileImage image = good_output();
  image.put(f32_tensor("blocks.0.norm.weight_scale", {}, {1.0f}));
  require_fails_with("stray", image, "StrayCompanion", "blocks.0.norm");
}

TEST_CASE("verify reports a container error as one finding", "[verify]") {
  Bytes bytes = serialize(good_output());
  bytes.push_back(0);  // trailing byte: MetadataIncompleteBuffer (docs/format.md#container-reader)
  const std::string path = temp_path("verify_fmt_trailing.safetensors");
  write_file(path, bytes);
  const VerifyResult result = verify::verify_file(path, {});
  CHECK_FALSE(result.passed());
  REQUIRE(result.findings.size() == 1);
  CHECK(result.findings[0].name() == "MetadataIncompleteBuffer");
}

TEST_CASE("verify recognises the legacy scaled_fp8 layout", "[verify]") {
  const FileImage legacy = quantize_image_legacy(small_source_model(), small_model_layers());
  const VerifyResult result = verify_image("legacy", legacy);
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  CHECK(result.legacy_layout);
  CHECK(result.layers_verified == 2);
  CHECK(has_finding(result, "LegacyLayout", "", Severity::Ok));
  CHECK(verify::format_text_report(result).find("legacy scaled_fp8 layout") != std::string::npos);

  FileImage no_scale = legacy;
  no_scale.erase(kFc1 + ".scale_weight");
  require_fails_with("legacy_no_scale", no_scale, "MissingScaleWeight", kFc1);
  FileImage mixed = legacy;
  mixed.metadata["_quantization_metadata"] = quantization_metadata_text(small_model_layers());
  require_fails_with("legacy_mixed", mixed, "LegacyMixed", "");
}

namespace {

/// A correct conversion whose layers are declared only by their `.comfy_quant` tensors
/// (as convert-to-quant writes them): no `_quantization_metadata`.
FileImage comfy_quant_only() {
  FileImage image = good_output();
  image.metadata.erase("_quantization_metadata");
  return image;
}

}  // namespace

TEST_CASE("verify accepts layers declared only by .comfy_quant tensors with a warning",
          "[verify]") {
  const VerifyResult result = verify_image("comfy_only", comfy_quant_only());
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  CHECK(result.layers_verified == 2);
  CHECK(result.warning_count() == 1);
  REQUIRE(result.with_id("MissingQuantizationMetadata").size() == 1);
  const verify::Finding& warning = *result.with_id("MissingQuantizationMetadata")[0];
  CHECK(warning.severity == Severity::Warn);
  CHECK(warning.message ==
        "__metadata__ has no '_quantization_metadata': 2 layer(s) are declared only by their "
        "'.comfy_quant' tensors, which ComfyUI reads, but the reference verifier requires the "
        "header entry");
  CHECK(has_finding(result, "Layers", "", Severity::Ok));
  CHECK(verify::format_text_report(result).find("[PASS] 2 layers verified (1 warnings)\n") !=
        std::string::npos);
}

TEST_CASE("verify checks .comfy_quant-only layers like declared ones", "[verify]") {
  FileImage bad_json = comfy_quant_only();
  bad_json.put(text_tensor(kQ + ".comfy_quant", R"({"format": )"));
  require_fails_with("comfy_only_bad_json", bad_json, "ComfyQuantInvalid", kQ);
  // Reported once: its weight is not also "undeclared".
  CHECK(verify_image("comfy_only_bad_json", bad_json).error_count() == 1);

  FileImage f32_marker = comfy_quant_only();
  f32_marker.put(f32_tensor(kQ + ".comfy_quant", {1}, {1.0f}));
  require_fails_with("comfy_only_f32", f32_marker, "ComfyQuantInvalid", kQ);

  FileImage int8 = comfy_quant_only();
  int8.put(text_tensor(kFc1 + ".comfy_quant", R"({"format": "int8"})"));
  require_fails_with("comfy_only_int8", int8, "InvalidLayerConfig", kFc1);

  FileImage u8_weight = comfy_quant_only();
  u8_weight.at(kQ + ".weight").dtype = Dtype::U8;
  require_fails_with("comfy_only_u8_weight", u8_weight, "WeightDtype", kQ);

  FileImage no_scale = comfy_quant_only();
  no_scale.erase(kFc1 + ".weight_scale");
  require_fails_with("comfy_only_no_scale", no_scale, "MissingWeightScale", kFc1);

  FileImage nan_scale = comfy_quant_only();
  nan_scale.put(f32_tensor(kQ + ".weight_scale", {}, {std::numeric_limits<float>::quiet_NaN()}));
  require_fails_with("comfy_only_nan_scale", nan_scale, "ScaleNotFinite", kQ);

  // An FP8 weight without its .comfy_quant is declared nowhere: ComfyUI uses it unscaled.
  FileImage undeclared = comfy_quant_only();
  undeclared.erase(kFc1 + ".comfy_quant");
  require_fails_with("comfy_only_undeclared", undeclared, "UndeclaredFp8Weight", kFc1);
  const VerifyResult result = verify_image("comfy_only_undeclared", undeclared);
  CHECK(has_finding(result, "StrayCompanion", kFc1));  // its weight_scale belongs to nothing
  CHECK(result.layers_verified == 1);
}
