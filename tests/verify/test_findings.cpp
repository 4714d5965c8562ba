// test_findings.cpp — one case per verify finding id: each case breaks exactly one
// rule of a correct conversion (or, for an OK id, leaves it correct) and verify must report
// that id, with its severity and subject, and no other problem. A FindingId without a case
// fails the first test, so a new rule cannot ship untested.
#include <catch2/catch.hpp>

#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/block_formats.hpp"
#include "support/fp8_file_builder.hpp"
#include "support/quant_format_fixtures.hpp"
#include "verify/verify.hpp"
#include "verify/verify_report.hpp"

using namespace qfp8;
using namespace qfp8::test;
using verify::FindingId;
using verify::Severity;
using verify::VerifyResult;

namespace {

const std::string kQ = "blocks.0.attn.to_q";
const std::string kFc1 = "blocks.0.mlp.fc1";
const std::string kMetadata = "_quantization_metadata";
const std::string kPlainConfig = R"({"format": "float8_e4m3fn"})";  // as json.dumps writes it
constexpr float kInf = std::numeric_limits<float>::infinity();

/// An output file (and, for the --against rules, its source) that makes verify report `id`.
struct FindingCase {
  Severity severity = Severity::Err;
  std::string subject;  // layer or tensor the finding names; empty: file-wide
  std::function<FileImage()> output;
  std::function<FileImage()> source;  // empty: format check only
  std::string raw_bytes_note;         // non-empty: the output is raw bytes (container case)
};

FileImage good_output() { return quantize_image(small_source_model(), small_model_layers()); }
FileImage good_legacy() {
  return quantize_image_legacy(small_source_model(), small_model_layers());
}
FileImage source() { return small_source_model(); }

/// The good output with one tensor replaced (or added).
std::function<FileImage()> output_with(TensorBlob blob, bool legacy = false) {
  return [blob, legacy]() {
    FileImage image = legacy ? good_legacy() : good_output();
    image.put(blob);
    return image;
  };
}

std::function<FileImage()> output_without(const std::string& name, bool legacy = false) {
  return [name, legacy]() {
    FileImage image = legacy ? good_legacy() : good_output();
    image.erase(name);
    return image;
  };
}

/// The good output with `_quantization_metadata` set to `text`.
std::function<FileImage()> output_metadata(const std::string& text) {
  return [text]() {
    FileImage image = good_output();
    image.metadata[kMetadata] = text;
    return image;
  };
}

TensorBlob bf16_scalar(const std::string& name) { return bf16_tensor(name, {}, {1.0f}); }

/// The FP8 codes of the good output's kQ weight with element 0 replaced by `code`.
TensorBlob q_weight_with_code(uint8_t code) {
  TensorBlob weight = good_output().at(kQ + ".weight");
  weight.data[0] = code;
  return weight;
}

/// A correct file in `format` (support/quant_format_fixtures.hpp; kQ is its [32, 64] layer)
/// with `edit` applied.
std::function<FileImage()> format_output_with(QuantFormat format,
                                              std::function<void(FileImage&)> edit) {
  return [format, edit]() {
    FileImage image = format_output(format);
    edit(image);
    return image;
  };
}

/// kQ's block scale code of (row, block) in a format output: [32, 64] -> padded [128, 4].
uint8_t& q_block_scale(FileImage& image, uint64_t row, uint64_t block) {
  return image.at(kQ + ".weight_scale").data[blocked_scale_offset(row, block, 4)];
}

/// The source with its kQ weight changed by `edit`.
std::function<FileImage()> source_with(std::function<void(TensorBlob&)> edit) {
  return [edit]() {
    FileImage image = source();
    edit(image.at(kQ + ".weight"));
    return image;
  };
}

const std::map<FindingId, FindingCase>& cases() {
  static const std::map<FindingId, FindingCase> kCases = [] {
    std::map<FindingId, FindingCase> c;
    const Severity ok = Severity::Ok;
    const Severity warn = Severity::Warn;
    // The container.
    c[FindingId::Container] = {ok, "", good_output, {}, {}};
    c[FindingId::ContainerInvalid] = {Severity::Err, "", {}, {}, "trailing byte"};
    // The `_quantization_metadata` layout.
    c[FindingId::QuantizationMetadata] = {ok, "", good_output, {}, {}};
    c[FindingId::InvalidQuantizationMetadata] = {Severity::Err, "", output_metadata("{nope"), {},
                                                 {}};
    c[FindingId::FormatVersion] = {
        warn, "", output_metadata(R"({"layers": {")" + kQ + R"(": )" + kPlainConfig + ", \"" +
                                  kFc1 + "\": " + kPlainConfig + "}}"),
        {}, {}};
    c[FindingId::MissingQuantizationMetadata] = {
        Severity::Err, "",
        [] {
          FileImage image = quantize_image(source(), small_model_layers(), false);
          image.metadata.erase(kMetadata);
          return image;
        },
        {}, {}};
    c[FindingId::InvalidLayerConfig] = {
        Severity::Err, kQ,
        [] {
          FileImage image = quantize_image(source(), small_model_layers(), false);
          image.metadata[kMetadata] = R"({"format_version": "1.0", "layers": {")" + kQ +
                                      R"(": {"format": "int8"}, ")" + kFc1 +
                                      "\": " + kPlainConfig + "}}";
          return image;
        },
        {}, {}};
    c[FindingId::ComfyQuantInvalid] = {
        Severity::Err, kQ, output_with(f32_tensor(kQ + ".comfy_quant", {1}, {1.0f})), {}, {}};
    c[FindingId::ComfyQuantMismatch] = {
        Severity::Err, kQ,
        output_with(text_tensor(
            kQ + ".comfy_quant",
            R"({"format": "float8_e4m3fn", "full_precision_matrix_mult": true})")),
        {}, {}};
    c[FindingId::ComfyQuantNotCanonical] = {
        warn, kQ, output_with(text_tensor(kQ + ".comfy_quant", R"({"format":"float8_e4m3fn"})")),
        {}, {}};
    c[FindingId::PrefixMismatch] = {
        Severity::Err, "model.diffusion_model." + kQ,
        output_metadata(quantization_metadata_text({"model.diffusion_model." + kQ, kFc1})), {},
        {}};
    c[FindingId::MissingWeight] = {
        Severity::Err, "blocks.9.extra",
        [] {
          FileImage image = good_output();
          image.put(f32_tensor("blocks.9.extra.weight_scale", {}, {1.0f}));
          image.metadata[kMetadata] =
              quantization_metadata_text({kQ, kFc1, "blocks.9.extra"});
          return image;
        },
        {}, {}};
    c[FindingId::MissingWeightScale] = {Severity::Err, kQ, output_without(kQ + ".weight_scale"),
                                        {}, {}};
    c[FindingId::MissingWeightScale2] = {
        Severity::Err, kQ,
        format_output_with(QuantFormat::Nvfp4,
                           [](FileImage& image) { image.erase(kQ + ".weight_scale_2"); }),
        {}, {}};
    c[FindingId::UndeclaredFp8Weight] = {
        Severity::Err, "extra",
        output_with({"extra.weight", Dtype::F8_E4M3, {2, 2}, {0x38, 0x30, 0xB8, 0x00}}), {}, {}};
    c[FindingId::StrayCompanion] = {
        Severity::Err, "blocks.0.norm",
        output_with(f32_tensor("blocks.0.norm.weight_scale", {}, {1.0f})), {}, {}};
    c[FindingId::Layers] = {ok, "", good_output, {}, {}};
    // The legacy layout.
    c[FindingId::LegacyLayout] = {ok, "", good_legacy, {}, {}};
    c[FindingId::LegacyMarker] = {Severity::Err, "scaled_fp8",
                                  output_with(f32_tensor("scaled_fp8", {1}, {1.0f}), true), {},
                                  {}};
    c[FindingId::LegacyMixed] = {
        Severity::Err, "",
        [] {
          FileImage image = good_legacy();
          image.metadata[kMetadata] = quantization_metadata_text(small_model_layers());
          return image;
        },
        {}, {}};
    c[FindingId::MissingScaleWeight] = {Severity::Err, kQ,
                                        output_without(kQ + ".scale_weight", true), {}, {}};
    // Single tensors.
    c[FindingId::WeightDtype] = {Severity::Err, kQ,
                                 output_with(source().at(kQ + ".weight")), {}, {}};
    c[FindingId::WeightShape] = {
        Severity::Err, kQ,
        [] {
          FileImage image = good_output();
          image.at(kQ + ".weight").shape = {128};  // same 128 codes, 1-D
          return image;
        },
        {}, {}};
    c[FindingId::ScaleDtype] = {Severity::Err, kQ, output_with(bf16_scalar(kQ + ".weight_scale")),
                                {}, {}};
    c[FindingId::ScaleShape] = {Severity::Err, kQ,
                                output_with(f32_tensor(kQ + ".weight_scale", {2}, {1.0f, 1.0f})),
                                {}, {}};
    c[FindingId::ScaleNotFinite] = {Severity::Err, kQ,
                                    output_with(f32_tensor(kQ + ".weight_scale", {}, {kInf})), {},
                                    {}};
    c[FindingId::ScaleNotPositive] = {Severity::Err, kQ,
                                      output_with(f32_tensor(kQ + ".weight_scale", {}, {-1.0f})),
                                      {}, {}};
    c[FindingId::BlockScaleDtype] = {
        Severity::Err, kQ,
        format_output_with(QuantFormat::Nvfp4,
                           [](FileImage& image) { image.at(kQ + ".weight_scale").dtype = Dtype::U8; }),
        {}, {}};
    c[FindingId::BlockScaleShape] = {
        Severity::Err, kQ,
        format_output_with(QuantFormat::Mxfp8,
                           [](FileImage& image) { image.at(kQ + ".weight_scale").shape = {256, 2}; }),
        {}, {}};
    c[FindingId::BlockScaleNegative] = {
        Severity::Err, kQ,
        format_output_with(QuantFormat::Nvfp4,
                           [](FileImage& image) { q_block_scale(image, 0, 0) = 0xB8; }),  // -1.0
        {}, {}};
    c[FindingId::BlockScalePadding] = {
        Severity::Err, kQ,
        format_output_with(QuantFormat::Nvfp4,
                           [](FileImage& image) { q_block_scale(image, 40, 0) = 0x38; }),
        {}, {}};
    c[FindingId::InputScaleDtype] = {Severity::Err, kQ,
                                     output_with(bf16_scalar(kQ + ".input_scale")), {}, {}};
    c[FindingId::InputScaleShape] = {
        Severity::Err, kQ, output_with(f32_tensor(kQ + ".input_scale", {2}, {1.0f, 1.0f})), {},
        {}};
    c[FindingId::InputScaleNotFinite] = {
        Severity::Err, kQ, output_with(f32_tensor(kQ + ".input_scale", {}, {kInf})), {}, {}};
    c[FindingId::InputScaleNotPositive] = {
        Severity::Err, kQ, output_with(f32_tensor(kQ + ".input_scale", {}, {0.0f})), {}, {}};
    c[FindingId::NanCode] = {Severity::Err, kQ + ".weight", output_with(q_weight_with_code(0x7F)),
                             {}, {}};
    // verify --against SRC.
    c[FindingId::Rederived] = {ok, "", good_output, source, {}};
    c[FindingId::SourceWeightMissing] = {Severity::Err, kQ, good_output,
                                         [] {
                                           FileImage image = source();
                                           image.erase(kQ + ".weight");
                                           return image;
                                         },
                                         {}};
    c[FindingId::SourceMismatch] = {Severity::Err, kQ, good_output,
                                    source_with([](TensorBlob& w) { w.shape = {16, 8}; }), {}};
    c[FindingId::SourceNonFinite] = {Severity::Err, kQ, good_output, source_with([](TensorBlob& w) {
                                       w.data[0] = 0x80;  // BF16 +Inf: 0x7F80
                                       w.data[1] = 0x7F;
                                     }),
                                     {}};
    c[FindingId::ScaleBitsDiffer] = {
        Severity::Err, kQ,
        [] {
          FileImage image = good_output();
          const float scale = quantize_blob(source().at(kQ + ".weight")).second;
          image.put(f32_tensor(kQ + ".weight_scale", {}, {scale * 2.0f}));
          return image;
        },
        source, {}};
    c[FindingId::BlockScalesDiffer] = {
        Severity::Err, kQ, format_output_with(QuantFormat::Nvfp4, [](FileImage& image) {
          uint8_t& code = q_block_scale(image, 5, 1);
          code = code == 0x40 ? 0x41 : 0x40;  // another finite, positive code
        }),
        format_source_model, {}};
    c[FindingId::WeightBytesDiffer] = {
        Severity::Err, kQ,
        [] {
          FileImage image = good_output();
          uint8_t& code = image.at(kQ + ".weight").data[0];
          code = code == 0x10 ? 0x11 : 0x10;  // another finite code
          return image;
        },
        source, {}};
    c[FindingId::KeptTensors] = {ok, "", good_output, source, {}};
    c[FindingId::TensorAdded] = {Severity::Err, "extra.bias",
                                 output_with(bf16_tensor("extra.bias", {2}, {1.0f, 2.0f})), source,
                                 {}};
    c[FindingId::KeptTensorMismatch] = {
        Severity::Err, kQ + ".bias",
        [] {
          FileImage image = good_output();
          image.at(kQ + ".bias").shape = {2, 4};
          return image;
        },
        source, {}};
    c[FindingId::KeptTensorChanged] = {Severity::Err, kQ + ".bias",
                                       [] {
                                         FileImage image = good_output();
                                         image.at(kQ + ".bias").data[0] ^= 0x01;
                                         return image;
                                       },
                                       source, {}};
    c[FindingId::TensorLost] = {Severity::Err, kQ + ".bias", output_without(kQ + ".bias"), source,
                                {}};
    c[FindingId::MetadataChanged] = {Severity::Err, "modelspec.title",
                                     [] {
                                       FileImage image = good_output();
                                       image.metadata["modelspec.title"] = "changed";
                                       return image;
                                     },
                                     source, {}};
    return c;
  }();
  return kCases;
}

VerifyResult run_case(const std::string& tag, const FindingCase& finding_case) {
  const std::string path = temp_path("findings_" + tag + ".safetensors");
  if (!finding_case.raw_bytes_note.empty()) {
    Bytes bytes = serialize(good_output());
    bytes.push_back(0);  // one byte past the last tensor: the reader refuses the file
    write_file(path, bytes);
  } else {
    write_image(path, finding_case.output());
  }
  verify::VerifyOptions options;
  options.threads = 2;
  if (finding_case.source) {
    options.source_path =
        write_image(temp_path("findings_" + tag + ".src.safetensors"), finding_case.source());
  }
  return verify::verify_file(path, options);
}

/// Problems (WARN and ERR) other than those with `id`.
std::size_t other_problems(const VerifyResult& result, FindingId id) {
  std::size_t count = 0;
  for (const auto& finding : result.findings) {
    if (finding.severity != Severity::Ok && finding.id != id) ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("every verify finding id has a case in the table", "[verify][findings]") {
  const auto& table = verify::finding_table();
  std::set<std::string> names;
  for (const auto& info : table) {
    INFO(info.name);
    CHECK(cases().count(info.id) == 1);
    CHECK(names.insert(info.name).second);  // printed names are unique
    CHECK(std::string(info.meaning).size() > 10);
  }
  CHECK(cases().size() == table.size());
}

TEST_CASE("each verify finding id is produced by its case", "[verify][findings]") {
  for (const auto& info : verify::finding_table()) {
    const auto found = cases().find(info.id);
    if (found == cases().end()) continue;  // reported by the test above
    const FindingCase& finding_case = found->second;
    DYNAMIC_SECTION(info.name) {
      const VerifyResult result = run_case(info.name, finding_case);
      INFO(verify::format_text_report(result));
      const auto matches = result.with_id(info.id);
      REQUIRE_FALSE(matches.empty());
      bool subject_and_severity = false;
      for (const auto* finding : matches) {
        subject_and_severity =
            subject_and_severity || (finding->severity == finding_case.severity &&
                                     finding->subject == finding_case.subject);
      }
      CHECK(subject_and_severity);
      CHECK(other_problems(result, info.id) == 0);  // exactly this rule, nothing else
      CHECK(result.passed() == (finding_case.severity != Severity::Err));
      // The printed id: the table's name, in the text and JSON reports alike.
      const std::string printed = info.id == FindingId::ContainerInvalid
                                      ? std::string("MetadataIncompleteBuffer")
                                      : std::string(info.name);
      CHECK(matches[0]->name() == printed);
      CHECK(verify::format_json_report(result).find("\"id\":\"" + printed + "\"") !=
            std::string::npos);
    }
  }
}

TEST_CASE("finding names are the rule names scripts read", "[verify][findings]") {
  // Spot checks against literal strings: a renamed enumerator must not rename the output.
  CHECK(std::string(verify::finding_name(FindingId::MissingWeightScale)) == "MissingWeightScale");
  CHECK(std::string(verify::finding_name(FindingId::InputScaleNotPositive)) ==
        "InputScaleNotPositive");
  CHECK(std::string(verify::finding_name(FindingId::NanCode)) == "NanCode");
  CHECK(std::string(verify::finding_name(FindingId::TensorLost)) == "TensorLost");
}
