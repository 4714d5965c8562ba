// test_verify_against.cpp — verify --against: re-derivation byte for byte, kept tensors,
// lost/added tensors, and the quality numbers of a case known in closed form.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "support/counting_progress.hpp"
#include "support/fp8_file_builder.hpp"
#include "support/numerics_oracle.hpp"
#include "verify/quality_report.hpp"
#include "verify/verify.hpp"
#include "verify/verify_report.hpp"

using namespace qfp8;
using namespace qfp8::test;
using verify::Severity;
using verify::VerifyResult;

namespace {

const std::string kQ = "blocks.0.attn.to_q";

VerifyResult verify_pair(const std::string& name, const FileImage& output, const FileImage& source,
                         unsigned threads = 2) {
  const std::string out_path = write_image(temp_path("verify_vs_" + name + ".safetensors"), output);
  verify::VerifyOptions options;
  options.source_path = write_image(temp_path("verify_vs_" + name + ".src.safetensors"), source);
  options.threads = threads;
  return verify::verify_file(out_path, options);
}

const verify::Finding* only_error(const VerifyResult& result, const std::string& id,
                                  const std::string& subject) {
  for (const auto* finding : result.with_id(id)) {
    if (finding->subject == subject && finding->severity == Severity::Err) return finding;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("verify --against passes a correct conversion", "[verify]") {
  const FileImage source = small_source_model();
  const VerifyResult result =
      verify_pair("good", quantize_image(source, small_model_layers()), source);
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  CHECK(result.quality.size() == 2);
  CHECK(!result.with_id("Rederived").empty());
  CHECK(!result.with_id("KeptTensors").empty());
}

TEST_CASE("verify --against finds one flipped FP8 byte", "[verify]") {
  const FileImage source = small_source_model();
  FileImage output = quantize_image(source, small_model_layers());
  uint8_t& code = output.at(kQ + ".weight").data[17];
  const uint8_t original = code;
  code ^= 0x01;
  if ((code & 0x7F) == 0x7F) code = original ^ 0x02;  // stay clear of NaN: one rule at a time
  const VerifyResult result = verify_pair("flipped", output, source);
  INFO(verify::format_text_report(result));
  CHECK_FALSE(result.passed());
  CHECK(result.with_id("NanCode")[0]->severity == Severity::Ok);
  const verify::Finding* finding = only_error(result, "WeightBytesDiffer", kQ);
  REQUIRE(finding != nullptr);
  CHECK(finding->message.find("1 FP8 code(s)") == 0);
  CHECK(finding->message.find("first at element 17") != std::string::npos);
  CHECK(result.error_count() == 1);
}

TEST_CASE("verify --against finds a changed kept tensor", "[verify]") {
  const FileImage source = small_source_model();
  FileImage output = quantize_image(source, small_model_layers());
  output.at(kQ + ".bias").data[3] ^= 0x40;
  const VerifyResult result = verify_pair("kept_changed", output, source);
  const verify::Finding* finding = only_error(result, "KeptTensorChanged", kQ + ".bias");
  REQUIRE(finding != nullptr);
  CHECK(finding->message.find("first at byte 3") != std::string::npos);
  CHECK(result.error_count() == 1);
}

TEST_CASE("verify --against finds lost and added tensors", "[verify]") {
  const FileImage source = small_source_model();
  FileImage lost = quantize_image(source, small_model_layers());
  lost.erase("blocks.0.norm.weight");
  const VerifyResult lost_result = verify_pair("lost", lost, source);
  CHECK(only_error(lost_result, "TensorLost", "blocks.0.norm.weight") != nullptr);
  CHECK(lost_result.error_count() == 1);

  FileImage added = quantize_image(source, small_model_layers());
  added.put(f32_tensor("extra.bias", {2}, {1.0f, 2.0f}));
  const VerifyResult added_result = verify_pair("added", added, source);
  CHECK(only_error(added_result, "TensorAdded", "extra.bias") != nullptr);
  CHECK(added_result.error_count() == 1);
}

TEST_CASE("verify --against finds a scale one ulp off and changed metadata", "[verify]") {
  const FileImage source = small_source_model();
  FileImage output = quantize_image(source, small_model_layers());
  output.at(kQ + ".weight_scale").data[0] ^= 0x01;  // lowest mantissa bit
  output.metadata["modelspec.title"] = "other";
  const VerifyResult result = verify_pair("scale_ulp", output, source);
  CHECK(only_error(result, "ScaleBitsDiffer", kQ) != nullptr);
  CHECK(only_error(result, "MetadataChanged", "modelspec.title") != nullptr);
}

TEST_CASE("verify --against with a written scale that is zero, NaN or negative",
          "[verify]") {
  // The re-derivation first scans under the output's own scale; such a scale is reported
  // by the format rules and never used to derive codes.
  const FileImage source = small_source_model();
  const std::pair<uint32_t, const char*> cases[] = {
      {0x00000000u, "ScaleNotPositive"}, {0xBF800000u, "ScaleNotPositive"},
      {0x7FC00000u, "ScaleNotFinite"}};
  for (const auto& [bits, id] : cases) {
    FileImage output = quantize_image(source, small_model_layers());
    auto& scale = output.at(kQ + ".weight_scale").data;
    for (int i = 0; i < 4; ++i) scale[i] = static_cast<uint8_t>(bits >> (8 * i));
    const VerifyResult result = verify_pair("scale_unusable", output, source);
    INFO("scale bits " << bits);
    CHECK(only_error(result, id, kQ) != nullptr);
    CHECK(only_error(result, "WeightBytesDiffer", kQ) == nullptr);
  }
}

TEST_CASE("verify --against measures a closed-form case exactly", "[verify][quality]") {
  // amax 448 gives scale 448/448 = 1, so each dequantized value is the E4M3FN value itself:
  //   448 -> 448 (code 0x7E, saturated), -448 -> -448 (0xFE, saturated), 2 -> 2 (exact),
  //   1.0625 = halfway 1 and 1.125 -> 1 (even mantissa), error -1/16,
  //   1.1875 = halfway 1.125 and 1.25 -> 1.25 (even), error +1/16,
  //   2^-10 = halfway 0 and 2^-9 (smallest subnormal) -> 0 (even): flushed, error -2^-10.
  const std::vector<float> w = {448.0f, 1.0625f, 1.1875f, 0.0009765625f, -448.0f, 2.0f};
  FileImage source;
  source.tensors.push_back(bf16_tensor("q.weight", {2, 3}, w));
  const FileImage output = quantize_image(source, {"q"});
  const double e = 1.0 / 16.0;
  const double tiny = std::ldexp(1.0, -10);
  double sum_w2 = 0.0;
  for (float value : w) sum_w2 += static_cast<double>(value) * static_cast<double>(value);
  const double sum_e2 = 2.0 * e * e + tiny * tiny;

  for (unsigned threads : {1u, 4u}) {
    const VerifyResult result = verify_pair("closed_form", output, source, threads);
    INFO(verify::format_text_report(result));
    REQUIRE(result.passed());
    REQUIRE(result.quality.size() == 1);
    const verify::LayerQuality& q = result.quality[0];
    CHECK(q.layer == "q");
    CHECK(q.numel == 6);
    CHECK(q.snr_db == Approx(10.0 * std::log10(sum_w2 / sum_e2)).epsilon(1e-12));
    CHECK(q.relative_l2 == Approx(std::sqrt(sum_e2 / sum_w2)).epsilon(1e-12));
    CHECK(q.max_abs_error == e);
    CHECK(q.flushed_fraction == Approx(1.0 / 6.0));
    CHECK(q.saturated_fraction == Approx(2.0 / 6.0));
  }
}

TEST_CASE("verify quality of an exact layer is infinite SNR", "[verify][quality]") {
  FileImage source;
  source.tensors.push_back(bf16_tensor("exact.weight", {1, 4}, {448.0f, -2.0f, 0.0f, 1.0f}));
  const VerifyResult result = verify_pair("exact", quantize_image(source, {"exact"}), source);
  REQUIRE(result.quality.size() == 1);
  CHECK(std::isinf(result.quality[0].snr_db));
  CHECK(result.quality[0].relative_l2 == 0.0);
  CHECK(verify::summarize_quality(result.quality).exact_layers == 1);
}

TEST_CASE("verify quality does not depend on the thread count", "[verify][quality]") {
  // 4 x 65536 + 100 elements: five scan chunks, shared out differently per thread count.
  FileImage source;
  source.tensors.push_back(bf16_tensor("big.weight", {4, 65561}, sample_weights(4 * 65561, 9)));
  source.tensors.push_back(bf16_tensor("small.weight", {8, 16}, sample_weights(128, 10)));
  const FileImage output = quantize_image(source, {"big", "small"});
  const VerifyResult one = verify_pair("threads", output, source, 1);
  const VerifyResult many = verify_pair("threads", output, source, 3);
  REQUIRE(one.passed());
  REQUIRE(many.passed());
  REQUIRE(one.quality.size() == 2);
  REQUIRE(many.quality.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(one.quality[i].layer == many.quality[i].layer);
    CHECK(one.quality[i].snr_db == many.quality[i].snr_db);  // bitwise, not approximately
    CHECK(one.quality[i].relative_l2 == many.quality[i].relative_l2);
    CHECK(one.quality[i].flushed_fraction == many.quality[i].flushed_fraction);
  }
  CHECK(one.quality[0].snr_db <= one.quality[1].snr_db);  // worst first
  CHECK(one.quality[0].flushed_fraction > 0.0);           // sample_weights reaches below 2^-10
}

TEST_CASE("verify quality measures the codes as written where they differ", "[verify][quality]") {
  // Three wrong codes in a layer of four scan chunks: the quality is that of the file as it
  // is, from an independent decoding (tests/support/numerics_oracle.hpp), on any thread count.
  const std::vector<float> w = sample_weights(4 * 60000, 11);
  FileImage source;
  source.tensors.push_back(bf16_tensor("q.weight", {4, 60000}, w));
  FileImage output = quantize_image(source, {"q"});
  Bytes& codes = output.at("q.weight").data;
  const std::vector<std::size_t> wrong = {3, 70000, 239999};
  for (std::size_t i : wrong) codes[i] = (codes[i] & 0x7F) == 0x7E ? 0x00 : codes[i] + 1;
  float scale = 0.0f;
  std::memcpy(&scale, output.at("q.weight_scale").data.data(), sizeof scale);

  const qfp8_test::E4m3Oracle oracle;
  double sum_w2 = 0.0;
  double sum_e2 = 0.0;
  double max_abs_error = 0.0;
  uint64_t nonzero = 0;
  uint64_t flushed = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double magnitude = oracle.value(codes[i] & 0x7F) * static_cast<double>(scale);
    const double error = ((codes[i] & 0x80) != 0 ? -magnitude : magnitude) - w[i];
    sum_w2 += static_cast<double>(w[i]) * static_cast<double>(w[i]);
    sum_e2 += error * error;
    max_abs_error = std::max(max_abs_error, std::fabs(error));
    if (w[i] == 0.0f) continue;
    ++nonzero;
    if ((codes[i] & 0x7F) == 0) ++flushed;
  }
  REQUIRE(flushed > 0);

  std::vector<double> snr;
  for (unsigned threads : {1u, 3u}) {
    const VerifyResult result = verify_pair("wrong_codes", output, source, threads);
    const verify::Finding* differ = only_error(result, "WeightBytesDiffer", "q");
    REQUIRE(differ != nullptr);
    CHECK(differ->message.find("3 FP8 code(s)") == 0);
    CHECK(differ->message.find("first at element 3:") != std::string::npos);
    REQUIRE(result.quality.size() == 1);
    const verify::LayerQuality& q = result.quality[0];
    CHECK(q.snr_db == Approx(10.0 * std::log10(sum_w2 / sum_e2)).epsilon(1e-12));
    CHECK(q.relative_l2 == Approx(std::sqrt(sum_e2 / sum_w2)).epsilon(1e-12));
    CHECK(q.max_abs_error == max_abs_error);
    CHECK(q.flushed_fraction ==
          Approx(static_cast<double>(flushed) / static_cast<double>(nonzero)));
    snr.push_back(q.snr_db);
  }
  CHECK(snr[0] == snr[1]);  // bitwise
}

TEST_CASE("verify --against reports NaN codes of a layer weight as the format check does",
          "[verify]") {
  // The re-derivation counts the weights' NaN codes while it reads them: the finding is the
  // format check's, in the format check's place (before the source's findings).
  const FileImage source = small_source_model();
  FileImage output = quantize_image(source, small_model_layers());
  output.at(kQ + ".weight").data[5] = 0x7F;
  output.at(kQ + ".weight").data[90] = 0xFF;
  const std::string path = write_image(temp_path("verify_nan_alone.safetensors"), output);
  const VerifyResult alone = verify::verify_file(path, {});
  const VerifyResult against = verify_pair("nan", output, source);
  REQUIRE(alone.with_id("NanCode").size() == 1);
  REQUIRE(against.with_id("NanCode").size() == 1);
  const verify::Finding& expected = *alone.with_id("NanCode")[0];
  const verify::Finding& found = *against.with_id("NanCode")[0];
  CHECK(found.severity == Severity::Err);
  CHECK(found.subject == kQ + ".weight");
  CHECK(found.message == expected.message);
  CHECK(found.message.find("2 NaN code(s)") == 0);
  CHECK(found.message.find("first at element 5") != std::string::npos);
  const auto position = [&](const std::string& id) {
    for (std::size_t i = 0; i < against.findings.size(); ++i) {
      if (against.findings[i].name() == id) return i;
    }
    return against.findings.size();
  };
  CHECK(position("NanCode") < position("WeightBytesDiffer"));
  CHECK(position("WeightBytesDiffer") < against.findings.size());
}

TEST_CASE("verify --against accepts the legacy layout", "[verify]") {
  const FileImage source = small_source_model();
  const VerifyResult result =
      verify_pair("legacy", quantize_image_legacy(source, small_model_layers()), source);
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  CHECK(result.legacy_layout);
  CHECK(result.quality.size() == 2);
}

TEST_CASE("verify --against finds a kept tensor's last byte changed", "[verify]") {
  const FileImage source = small_source_model();
  FileImage output = quantize_image(source, small_model_layers());
  Bytes& bias = output.at(kQ + ".bias").data;  // 8 BF16 values: bytes 0..15
  REQUIRE(bias.size() == 16);
  bias[15] ^= 0x01;
  const VerifyResult result = verify_pair("kept_last_byte", output, source);
  INFO(verify::format_text_report(result));
  CHECK_FALSE(result.passed());
  const verify::Finding* finding = only_error(result, "KeptTensorChanged", kQ + ".bias");
  REQUIRE(finding != nullptr);
  CHECK(finding->message == "1 byte(s) differ from the source; first at byte 15");
  CHECK(result.error_count() == 1);
}

TEST_CASE("verify --against finds a kept tensor reshaped with the same bytes", "[verify]") {
  const FileImage source = small_source_model();
  FileImage output = quantize_image(source, small_model_layers());
  output.at(kQ + ".bias").shape = {2, 4};  // source [8]: same 16 bytes, another tensor
  const VerifyResult result = verify_pair("kept_shape", output, source);
  INFO(verify::format_text_report(result));
  CHECK_FALSE(result.passed());
  const verify::Finding* finding = only_error(result, "KeptTensorMismatch", kQ + ".bias");
  REQUIRE(finding != nullptr);
  CHECK(finding->message == "output is BF16 [2, 4], source is BF16 [8]");
  CHECK(result.error_count() == 1);
}

TEST_CASE("verify --against finds a quantized weight transposed against its source",
          "[verify]") {
  const FileImage source = small_source_model();
  FileImage output = quantize_image(source, small_model_layers());
  output.at(kQ + ".weight").shape = {16, 8};  // source [8, 16]: same codes, wrong layout
  const VerifyResult result = verify_pair("weight_shape", output, source);
  INFO(verify::format_text_report(result));
  CHECK_FALSE(result.passed());
  const verify::Finding* finding = only_error(result, "SourceMismatch", kQ);
  REQUIRE(finding != nullptr);
  CHECK(finding->message ==
        "source 'blocks.0.attn.to_q.weight' is BF16 [8, 16], output is F8_E4M3 [16, 8]");
  CHECK(result.error_count() == 1);
  CHECK(result.quality.size() == 1);  // the mismatched layer is not measured
}

TEST_CASE("verify --against re-derives layers declared only by .comfy_quant tensors",
          "[verify]") {
  const FileImage source = small_source_model();
  FileImage output = quantize_image(source, small_model_layers());
  output.metadata.erase("_quantization_metadata");
  const VerifyResult result = verify_pair("comfy_only", output, source);
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  CHECK(result.warning_count() == 1);
  CHECK(result.quality.size() == 2);
  CHECK(!result.with_id("Rederived").empty());
}

TEST_CASE("verify --against reports each layer and kept tensor it reads to its progress meter",
          "[verify]") {
  const FileImage source = small_source_model();
  const FileImage output = quantize_image(source, small_model_layers());
  const std::string out_path = write_image(temp_path("verify_progress.safetensors"), output);
  verify::VerifyOptions options;
  options.source_path = write_image(temp_path("verify_progress.src.safetensors"), source);
  CountingProgress progress;
  options.progress = &progress;
  const VerifyResult result = verify::verify_file(out_path, options);
  REQUIRE(result.passed());
  // Every source tensor is either a layer's weight or kept, so the whole source is read.
  uint64_t source_bytes = 0;
  for (const auto& tensor : source.tensors) source_bytes += tensor.data.size();
  CHECK(progress.tensors == source.tensors.size());
  CHECK(progress.total_tensors == source.tensors.size());
  CHECK(progress.bytes == source_bytes);
  CHECK(progress.total_bytes == source_bytes);
}
