// test_verify_against_nonfinite.cpp — verify --against counts the non-finite codes of each
// float8_e4m3fn / float8_e5m2 weight in the one pass that re-derives it. Its NanCode finding
// must be the one the format check gives on its own (count_nonfinite_codes, which reads the
// codes by themselves), for every source dtype, with codes planted in several scan chunks and
// a NaN source element whose code is the NaN code its cast gives (a code that "matches").
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/float_rounding.hpp"
#include "support/quant_format_fixtures.hpp"
#include "verify/verify.hpp"
#include "verify/verify_report.hpp"

using namespace qfp8;
using namespace qfp8::test;
using verify::Severity;
using verify::VerifyResult;

namespace {

const std::string kLayer = "blocks.0.attn.to_q";
// 200,000 elements: four of the scans' 65,536-element chunks, the last one short.
constexpr uint64_t kRows = 4;
constexpr uint64_t kCols = 50000;
// The planted codes, in three chunks; the NaN source element in a fourth place.
constexpr uint64_t kPlanted[] = {70000, 140001, 199999};
constexpr uint64_t kNanSource = 100000;

/// `values` in `dtype`, rounded to nearest even where F16 cannot hold them.
TensorBlob weight_in(Dtype dtype, const std::vector<float>& values) {
  if (dtype == Dtype::BF16) return bf16_tensor(kLayer + ".weight", {kRows, kCols}, values);
  if (dtype == Dtype::F32) return f32_tensor(kLayer + ".weight", {kRows, kCols}, values);
  TensorBlob blob{kLayer + ".weight", Dtype::F16, {kRows, kCols}, {}};
  for (const float value : values) {
    const uint16_t bits = f32_to_f16_rne(value);
    blob.data.push_back(static_cast<uint8_t>(bits & 0xFFu));
    blob.data.push_back(static_cast<uint8_t>(bits >> 8));
  }
  return blob;
}

/// Sets element `index` of a 2-, 4-byte source weight to a quiet NaN.
void put_nan(TensorBlob& weight, uint64_t index) {
  const Bytes nan = weight.dtype == Dtype::F32   ? Bytes{0x00, 0x00, 0xC0, 0x7F}
                    : weight.dtype == Dtype::F16 ? Bytes{0x00, 0x7E}
                                                 : Bytes{0xC0, 0x7F};
  std::copy(nan.begin(), nan.end(), weight.data.begin() + static_cast<std::ptrdiff_t>(index * nan.size()));
}

const verify::Finding& nan_finding(const VerifyResult& result) {
  const auto found = result.with_id("NanCode");
  REQUIRE(found.size() == 1);
  return *found[0];
}

}  // namespace

TEST_CASE("verify --against counts a weight's non-finite codes in its one pass, as the format "
          "check does",
          "[verify]") {
  const std::vector<float> values = sample_weights(kRows * kCols, 7);
  for (const Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    for (const QuantFormat format : {QuantFormat::Float8E4m3fn, QuantFormat::Float8E5m2}) {
      for (const bool nan_source : {false, true}) {
        INFO(dtype_name(dtype) << " source, " << quant_format_name(format)
                               << (nan_source ? ", a NaN source element" : ""));
        FileImage source;
        source.tensors.push_back(weight_in(dtype, values));
        FileImage output = quantize_image_as(source, {{kLayer, format}});
        Bytes& codes = output.at(kLayer + ".weight").data;
        // E4M3FN: its two NaN codes; E5M2: +Inf, a NaN, -NaN.
        const std::vector<uint8_t> planted = format == QuantFormat::Float8E4m3fn
                                                 ? std::vector<uint8_t>{0x7F, 0xFF, 0x7F}
                                                 : std::vector<uint8_t>{0x7C, 0x7E, 0xFF};
        for (std::size_t i = 0; i < planted.size(); ++i) codes[kPlanted[i]] = planted[i];
        uint64_t expected_count = planted.size();
        if (nan_source) {
          put_nan(source.at(kLayer + ".weight"), kNanSource);
          codes[kNanSource] = 0x7F;  // a NaN in both formats: what either cast gives NaN
          ++expected_count;
        }
        const std::string out_path =
            write_image(temp_path("verify_nonfinite.safetensors"), output);
        const VerifyResult alone = verify::verify_file(out_path, {});
        for (const unsigned threads : {1u, 3u}) {
          verify::VerifyOptions options;
          options.source_path =
              write_image(temp_path("verify_nonfinite.src.safetensors"), source);
          options.threads = threads;
          const VerifyResult against = verify::verify_file(out_path, options);
          INFO(verify::format_text_report(against));
          const verify::Finding& found = nan_finding(against);
          CHECK(found.severity == Severity::Err);
          CHECK(found.subject == kLayer + ".weight");
          CHECK(found.message.find(std::to_string(expected_count) + " ") == 0);
          CHECK(found.message.find("first at element 70000") != std::string::npos);
          CHECK(found.message == nan_finding(alone).message);
          CHECK(against.with_id("SourceNonFinite").size() == (nan_source ? 1u : 0u));
          if (!nan_source) CHECK(!against.with_id("WeightBytesDiffer").empty());
        }
      }
    }
  }
}

TEST_CASE("verify --against finds no non-finite code in a correct float8 file of any source "
          "dtype",
          "[verify]") {
  const std::vector<float> values = sample_weights(kRows * kCols, 8);
  for (const Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    for (const QuantFormat format : {QuantFormat::Float8E4m3fn, QuantFormat::Float8E5m2}) {
      INFO(dtype_name(dtype) << " source, " << quant_format_name(format));
      FileImage source;
      source.tensors.push_back(weight_in(dtype, values));
      const FileImage output = quantize_image_as(source, {{kLayer, format}});
      verify::VerifyOptions options;
      options.source_path = write_image(temp_path("verify_finite.src.safetensors"), source);
      options.threads = 2;
      const VerifyResult result = verify::verify_file(
          write_image(temp_path("verify_finite.safetensors"), output), options);
      INFO(verify::format_text_report(result));
      CHECK(result.passed());
      CHECK(nan_finding(result).severity == Severity::Ok);
    }
  }
}
