// test_verify_against_formats.cpp — verify --against on the other formats: files whose every
// code is worked out by hand from the format definitions (docs/format.md#numerics-e5m2,
// #numerics-mxfp8, #numerics-nvfp4, #blocked-scales) pass with exact quality, and one flipped
// byte in the data, a block scale or weight_scale_2 is found and named.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/block_formats.hpp"
#include "support/numerics_oracle.hpp"
#include "support/quant_format_fixtures.hpp"
#include "verify/verify.hpp"
#include "verify/verify_report.hpp"

using namespace qfp8;
using namespace qfp8::test;
using verify::Severity;
using verify::VerifyResult;

namespace {

const std::string kQ = kFormatQ;

VerifyResult verify_pair(const std::string& name, const FileImage& output, const FileImage& source,
                         unsigned threads = 2) {
  const std::string out_path =
      write_image(temp_path("verify_vs_formats_" + name + ".safetensors"), output);
  verify::VerifyOptions options;
  options.source_path =
      write_image(temp_path("verify_vs_formats_" + name + ".src.safetensors"), source);
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

// --- the format definitions, written out for the oracle -----------------------------------

/// Byte of (row, block) in blocked scales `padded_blocks` wide: docs/format.md#blocked-scales.
uint64_t doc_scale_offset(uint64_t row, uint64_t block, uint64_t padded_blocks) {
  return ((row / 128) * (padded_blocks / 4) + block / 4) * 512 + (row % 32) * 16 +
         ((row % 128) / 32) * 4 + block % 4;
}

/// E5M2 value of a code: sign, 5 exponent bits (bias 15), 2 mantissa bits, subnormals m * 2^-16.
double e5m2_definition(uint8_t code) {
  const double sign = (code & 0x80) ? -1.0 : 1.0;
  const int exponent = (code >> 2) & 0x1F;
  const int mantissa = code & 3;
  if (exponent == 0) return sign * std::ldexp(mantissa, -16);
  return sign * std::ldexp(1.0 + mantissa / 4.0, exponent - 15);
}

/// The E2M1 magnitudes, codes 0..7; code | 8 is the negative.
const double kE2M1[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};

uint8_t e2m1_code_of(double value) {
  const double magnitude = std::fabs(value);
  for (uint8_t code = 0; code < 8; ++code) {
    if (kE2M1[code] == magnitude) return static_cast<uint8_t>(code | (std::signbit(value) ? 8 : 0));
  }
  FAIL("not an E2M1 value: " << value);
  return 0;
}

Bytes f32_bytes(float value) {
  Bytes out(4);
  std::memcpy(out.data(), &value, 4);
  return out;
}

FileImage single_layer(const TensorBlob& weight) {
  FileImage image;
  image.tensors.push_back(weight);
  return image;
}

}  // namespace

TEST_CASE("verify --against passes a float8_e5m2 file worked out by hand", "[verify][formats]") {
  // Every finite E5M2 value v (248 codes) times 2^-10: amax = 57344 * 2^-10 = 56, so the
  // scale is 56 / 57344 = 2^-10 and each element's code is the code it came from.
  std::vector<uint8_t> codes;
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7C) != 0x7C) codes.push_back(static_cast<uint8_t>(code));
  }
  REQUIRE(codes.size() == 248);
  std::vector<float> values;
  for (uint8_t code : codes)
    values.push_back(static_cast<float>(std::ldexp(e5m2_definition(code), -10)));
  const FileImage source = single_layer(bf16_tensor("e.weight", {2, 124}, values));
  FileImage output;
  output.tensors.push_back(
      {"e.weight", Dtype::F8_E5M2, {2, 124}, Bytes(codes.begin(), codes.end())});
  output.tensors.push_back({"e.weight_scale", Dtype::F32, {}, f32_bytes(std::ldexp(1.0f, -10))});
  output.tensors.push_back(text_tensor("e.comfy_quant", R"({"format": "float8_e5m2"})"));
  output.metadata["_quantization_metadata"] =
      R"({"format_version": "1.0", "layers": {"e": {"format": "float8_e5m2"}}})";
  const VerifyResult result = verify_pair("e5m2_by_hand", output, source);
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  REQUIRE(result.quality.size() == 1);
  CHECK(std::isinf(result.quality[0].snr_db));  // every value exactly representable
  CHECK(result.quality[0].saturated_fraction == Approx(2.0 / 248.0));  // ±57344
}

TEST_CASE("verify --against passes an mxfp8 file worked out by hand", "[verify][formats]") {
  // [32, 32]: one block per row, w[r][i] = (i - 16) * 2^(r - 10). Block amax 2^(r - 6);
  // 2^(r - 6) / 448 = 2^(r - 15) * 1.142857, so p = ceil(log2) = r - 14 and the E8M0 code is
  // r - 14 + 127; each element is (i - 16) * 16, exact in E4M3FN.
  const qfp8_test::E4m3Oracle e4m3;
  std::vector<float> values;
  Bytes data;
  for (int r = 0; r < 32; ++r) {
    for (int i = 0; i < 32; ++i) {
      values.push_back(static_cast<float>(std::ldexp(i - 16, r - 10)));
      data.push_back(e4m3.cast((i - 16) * 16.0));
    }
  }
  Bytes scales(128 * 4, 0);  // [R128, B4] = [128, 4]
  for (int r = 0; r < 32; ++r)
    scales[doc_scale_offset(r, 0, 4)] = static_cast<uint8_t>(r - 14 + 127);
  const FileImage source = single_layer(bf16_tensor("m.weight", {32, 32}, values));
  FileImage output;
  output.tensors.push_back({"m.weight", Dtype::F8_E4M3, {32, 32}, data});
  output.tensors.push_back({"m.weight_scale", Dtype::F8_E8M0, {128, 4}, scales});
  output.metadata["_quantization_metadata"] =
      R"({"format_version": "1.0", "layers": {"m": {"format": "mxfp8"}}})";
  const VerifyResult result = verify_pair("mxfp8_by_hand", output, source);
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  REQUIRE(result.quality.size() == 1);
  CHECK(std::isinf(result.quality[0].snr_db));
  CHECK(result.quality[0].flushed_fraction == 0.0);
}

/// nvfp4 [16, 16], one block per row: row r holds the 16 values G[i] * S_r * 2^-4, with G the
/// E2M1 values below and S_r = 2^(r - 8) (row 15: 448). amax = 6 * 448 / 16 = 168, so
/// weight_scale_2 = 168 / 2688 = 2^-4; each block scale is (amax_r / 6) / 2^-4 = S_r, exact in
/// E4M3FN, and each element w / (S_r * 2^-4) = G[i] exactly.
struct Nvfp4ByHand {
  FileImage source;
  FileImage output;
};

Nvfp4ByHand nvfp4_by_hand() {
  const double g[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -6, -4, -3, -2, -1.5, -1, -0.5, -0.0};
  const qfp8_test::E4m3Oracle e4m3;
  std::vector<float> values;
  Bytes data;
  Bytes scales(128 * 4, 0);
  for (int r = 0; r < 16; ++r) {
    const double s = r == 15 ? 448.0 : std::ldexp(1.0, r - 8);
    for (int i = 0; i < 16; ++i) values.push_back(static_cast<float>(g[i] * s / 16.0));
    for (int j = 0; j < 8; ++j) {
      data.push_back(
          static_cast<uint8_t>((e2m1_code_of(g[2 * j]) << 4) | e2m1_code_of(g[2 * j + 1])));
    }
    scales[doc_scale_offset(r, 0, 4)] = e4m3.cast(s);
  }
  Nvfp4ByHand out;
  out.source = single_layer(bf16_tensor("n.weight", {16, 16}, values));
  out.output.tensors.push_back({"n.weight", Dtype::U8, {16, 8}, data});
  out.output.tensors.push_back({"n.weight_scale", Dtype::F8_E4M3, {128, 4}, scales});
  out.output.tensors.push_back({"n.weight_scale_2", Dtype::F32, {}, f32_bytes(0.0625f)});
  out.output.metadata["_quantization_metadata"] =
      R"({"format_version": "1.0", "layers": {"n": {"format": "nvfp4"}}})";
  return out;
}

TEST_CASE("verify --against passes an nvfp4 file worked out by hand", "[verify][formats]") {
  const Nvfp4ByHand files = nvfp4_by_hand();
  const VerifyResult result = verify_pair("nvfp4_by_hand", files.output, files.source);
  INFO(verify::format_text_report(result));
  CHECK(result.passed());
  REQUIRE(result.quality.size() == 1);
  CHECK(std::isinf(result.quality[0].snr_db));
  CHECK(result.quality[0].saturated_fraction == Approx(2.0 / 16.0));  // ±6 in every row
  // -0 keeps its sign: the last nibble of each row is 0x8, and a +0 code there is found.
  FileImage plus_zero = files.output;
  plus_zero.at("n.weight").data[7] = 0x90;  // -0.5, +0 instead of -0.5, -0
  const VerifyResult changed = verify_pair("nvfp4_plus_zero", plus_zero, files.source);
  const verify::Finding* finding = only_error(changed, "WeightBytesDiffer", "n");
  REQUIRE(finding != nullptr);
  CHECK(finding->message ==
        "1 packed byte(s) differ from the re-derived ones; first at byte 7 (row 0, columns 14 "
        "and 15): 0x90, expected 0x98");
}

TEST_CASE("verify --against finds a flipped byte in each format's data", "[verify][formats]") {
  const FileImage source = format_source_model();
  FileImage mxfp8 = format_output(QuantFormat::Mxfp8);
  uint8_t& code = mxfp8.at(kQ + ".weight").data[100];
  code = code == 0x10 ? 0x11 : 0x10;  // another finite code
  const VerifyResult mx = verify_pair("mxfp8_data", mxfp8, source);
  INFO(verify::format_text_report(mx));
  CHECK(mx.error_count() == 1);
  const verify::Finding* mx_finding = only_error(mx, "WeightBytesDiffer", kQ);
  REQUIRE(mx_finding != nullptr);
  CHECK(mx_finding->message.find("1 FP8 code(s) differ from the re-derived ones; first at element "
                                 "100: ") == 0);
  CHECK(mx.quality.size() == 2);

  FileImage nvfp4 = format_output(QuantFormat::Nvfp4);
  nvfp4.at(kQ + ".weight").data[37] ^= 0x10;  // kQ [32, 64]: 32 bytes a row
  const VerifyResult nv = verify_pair("nvfp4_data", nvfp4, source);
  INFO(verify::format_text_report(nv));
  CHECK(nv.error_count() == 1);
  const verify::Finding* nv_finding = only_error(nv, "WeightBytesDiffer", kQ);
  REQUIRE(nv_finding != nullptr);
  CHECK(nv_finding->message.find(
            "1 packed byte(s) differ from the re-derived ones; first at byte 37 (row 1, columns "
            "10 and 11): ") == 0);

  FileImage e5m2 = format_output(QuantFormat::Float8E5m2);
  uint8_t& e5m2_code = e5m2.at(kFormatFc1 + ".weight").data[2047];
  e5m2_code = e5m2_code == 0x20 ? 0x21 : 0x20;
  const VerifyResult e5 = verify_pair("e5m2_data", e5m2, source);
  CHECK(e5.error_count() == 1);
  const verify::Finding* e5_finding = only_error(e5, "WeightBytesDiffer", kFormatFc1);
  REQUIRE(e5_finding != nullptr);
  CHECK(e5_finding->message.find("first at element 2047: ") != std::string::npos);
}

TEST_CASE("verify --against reports a source with Inf or NaN in every format",
          "[verify][formats]") {
  // The layer is scanned before the source's absmax is known: blocks holding Inf or NaN
  // must not reach the block quantizers (defined for finite blocks; ASan would see an
  // out-of-range table read in the E8M0 rounding of a NaN amax).
  for (const QuantFormat format : {QuantFormat::Float8E5m2, QuantFormat::Mxfp8,
                                   QuantFormat::Nvfp4}) {
    for (const uint16_t bits : {uint16_t{0x7FC0}, uint16_t{0xFF80}}) {  // NaN, -Inf
      INFO(quant_format_name(format) << " with BF16 0x" << std::hex << bits);
      FileImage source = format_source_model();
      auto& weight = source.at(kQ + ".weight").data;
      weight[2 * 70] = static_cast<uint8_t>(bits);  // element 70: row 1, block 1 or 2
      weight[2 * 70 + 1] = static_cast<uint8_t>(bits >> 8);
      const VerifyResult result = verify_pair("nonfinite", format_output(format), source);
      CHECK(only_error(result, "SourceNonFinite", kQ) != nullptr);
      CHECK(result.error_count() == 1);
    }
  }
}

TEST_CASE("verify --against finds a flipped block scale and weight_scale_2", "[verify][formats]") {
  const FileImage source = format_source_model();
  for (const QuantFormat format : {QuantFormat::Mxfp8, QuantFormat::Nvfp4}) {
    INFO(quant_format_name(format));
    FileImage image = format_output(format);
    uint8_t& code = image.at(kQ + ".weight_scale").data[blocked_scale_offset(5, 1, 4)];
    const uint8_t original = code;
    code = code == 0x40 ? 0x41 : 0x40;  // finite and positive in E8M0 and E4M3FN alike
    const VerifyResult result = verify_pair("block_scale", image, source);
    INFO(verify::format_text_report(result));
    CHECK(result.error_count() == 1);
    const verify::Finding* finding = only_error(result, "BlockScalesDiffer", kQ);
    REQUIRE(finding != nullptr);
    char expected[128];
    std::snprintf(expected, sizeof expected,
                  "1 block scale code(s) differ from the re-derived ones; first at row 5, block 1: "
                  "0x%02x, expected 0x%02x",
                  code, original);
    CHECK(finding->message == expected);
  }
  FileImage scale_2 = format_output(QuantFormat::Nvfp4);
  scale_2.at(kQ + ".weight_scale_2").data[0] ^= 0x01;  // the lowest mantissa bit
  const VerifyResult result = verify_pair("scale_2", scale_2, source);
  INFO(verify::format_text_report(result));
  CHECK(result.error_count() == 1);
  const verify::Finding* finding = only_error(result, "ScaleBitsDiffer", kQ);
  REQUIRE(finding != nullptr);
  CHECK(finding->message.find("'" + kQ + ".weight_scale_2' is 0x") == 0);
}

TEST_CASE("verify --against block quality does not depend on the thread count",
          "[verify][formats][quality]") {
  // 16 rows of 4100 nvfp4 blocks: 65600 blocks, two scan chunks.
  FileImage source;
  source.tensors.push_back(bf16_tensor("big.weight", {16, 65600}, sample_weights(16 * 65600, 31)));
  const FileImage output = quantize_image_as(source, {{"big", QuantFormat::Nvfp4}});
  const VerifyResult one = verify_pair("block_threads", output, source, 1);
  const VerifyResult many = verify_pair("block_threads", output, source, 3);
  INFO(verify::format_text_report(one));
  REQUIRE(one.passed());
  REQUIRE(many.passed());
  REQUIRE(one.quality.size() == 1);
  REQUIRE(many.quality.size() == 1);
  CHECK(one.quality[0].snr_db == many.quality[0].snr_db);  // bitwise
  CHECK(one.quality[0].relative_l2 == many.quality[0].relative_l2);
  CHECK(one.quality[0].max_abs_error == many.quality[0].max_abs_error);
  CHECK(one.quality[0].flushed_fraction > 0.0);  // sample_weights spans 2^-20 .. 2^1
}
