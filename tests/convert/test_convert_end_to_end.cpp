// test_convert_end_to_end.cpp — converts small Qwen-Image-named BF16 models (library call
// and binary) and checks the output against docs/format.md (#layer to #verification) with
// expectations computed here.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "convert/pipeline.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/reader.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

ConvertSummary convert_library(const std::string& in, const std::string& out,
                               const PlanOptions& options, unsigned threads) {
  remove_path(out);
  const SafetensorsFile input(in);
  const ConversionPlan plan = make_conversion_plan(input.header(), options, in);
  const auto backend = make_cpu_backend(threads);
  return convert_to_file(input, plan, *backend, out, OutputOptions{}, nullptr);
}

ChildResult run_binary(std::vector<std::string> args, const std::string& dir) {
  args.insert(args.begin(), QFP8_BINARY);
  return run_child(args, dir);
}

/// docs/format.md#verification-reference: the reference verifier's checks. Returns the declared
/// layers.
std::set<std::string> check_spec5(const SafetensorsFile& out) {
  const auto& metadata = out.header().metadata;
  REQUIRE(metadata.count("_quantization_metadata") == 1);
  const auto json = nlohmann::json::parse(metadata.at("_quantization_metadata"));
  REQUIRE(json.is_object());
  CHECK(json.at("format_version") == "1.0");
  REQUIRE(json.at("layers").is_object());
  std::set<std::string> declared;
  for (const auto& [layer, config] : json.at("layers").items()) {
    CHECK(config.at("format") == "float8_e4m3fn");
    declared.insert(layer);
    const TensorInfo* weight = out.find(layer + ".weight");
    const TensorInfo* scale = out.find(layer + ".weight_scale");
    REQUIRE(weight != nullptr);
    REQUIRE(scale != nullptr);
    CHECK(weight->dtype == Dtype::F8_E4M3);
    CHECK(weight->shape.size() == 2);
    CHECK(scale->dtype == Dtype::F32);
    CHECK(scale->shape.empty());
  }
  std::set<std::string> scaled;
  for (const auto& tensor : out.header().tensors) {
    if (ends_with(tensor.name, ".weight_scale")) {
      scaled.insert(tensor.name.substr(0, tensor.name.size() - 13));
    }
  }
  CHECK(scaled == declared);
  return declared;
}

/// Every input tensor is either copied byte for byte or quantized within the E4M3 bound
/// with scale = amax / 448; nothing else appears in the output.
void check_against_source(const SafetensorsFile& in, const SafetensorsFile& out, bool qwen,
                          bool comfy_quant) {
  std::size_t expected_outputs = 0;
  for (const auto& source : in.header().tensors) {
    INFO(source.name);
    const TensorInfo* result = out.find(source.name);
    REQUIRE(result != nullptr);
    CHECK(result->shape == source.shape);
    const ByteView source_bytes = in.bytes(source);
    const ByteView result_bytes = out.bytes(*result);
    ++expected_outputs;
    if (!expect_quantized(source, qwen)) {
      CHECK(result->dtype == source.dtype);
      CHECK(std::equal(source_bytes.data, source_bytes.data + source_bytes.size, result_bytes.data,
                       result_bytes.data + result_bytes.size));
      continue;
    }
    REQUIRE(result->dtype == Dtype::F8_E4M3);
    const std::string layer = source.name.substr(0, source.name.size() - 7);
    const TensorInfo* scale_info = out.find(layer + ".weight_scale");
    REQUIRE(scale_info != nullptr);
    const float scale = f32_from_le(out.bytes(*scale_info).data);
    CHECK(float_bits(scale) == float_bits(expected_scale(source_bytes.data, source.numel)));
    uint64_t bad = 0;
    for (uint64_t i = 0; i < source.numel; ++i) {
      const float w = bf16_at(source_bytes.data, i);
      const float decoded = e4m3fn_to_f32(result_bytes.data[i]) * scale;
      // RNE to 3 mantissa bits: half an ulp is <= 2^-4 of the value in the normal range,
      // 2^-10 (half of 2^-9) times the scale in the subnormal range.
      const float bound = std::max(std::ldexp(std::fabs(w), -4), std::ldexp(scale, -10));
      if (!(std::fabs(decoded - w) <= bound * (1.0f + 1e-5f))) ++bad;
    }
    CHECK(bad == 0);
    expected_outputs += 1;
    if (comfy_quant) {
      const TensorInfo* marker = out.find(layer + ".comfy_quant");
      REQUIRE(marker != nullptr);
      CHECK(marker->dtype == Dtype::U8);
      const ByteView bytes = out.bytes(*marker);
      CHECK(std::string(bytes.data, bytes.data + bytes.size) == "{\"format\": \"float8_e4m3fn\"}");
      expected_outputs += 1;
    }
  }
  CHECK(out.header().tensors.size() == expected_outputs);
}

}  // namespace

TEST_CASE("library conversion of a Qwen-Image-named model meets the spec", "[convert]") {
  const std::string dir = scratch_dir("convert_e2e_library");
  SyntheticModelOptions model;
  model.zero_tensor = "transformer_blocks.1.attn.to_k.weight";
  write_synthetic_model(dir + "/in.safetensors", model);
  const ConvertSummary summary = convert_library(dir + "/in.safetensors", dir + "/out.safetensors", {}, 2);

  const SafetensorsFile in(dir + "/in.safetensors");
  const SafetensorsFile out(dir + "/out.safetensors");
  const auto declared = check_spec5(out);
  check_against_source(in, out, true, true);
  std::size_t quantized = 0;
  for (const auto& tensor : in.header().tensors) quantized += expect_quantized(tensor, true) ? 1 : 0;
  // Per block 8 attention + 2 modulation + 4 MLP Linears, less block 0's img_mod.1.
  CHECK(quantized == 2 * 14 - 1);
  CHECK(declared.size() == quantized);
  CHECK(summary.quantized == quantized);
  CHECK(summary.kept == in.header().tensors.size() - quantized);
  CHECK(summary.output_bytes == out.file_size());
  CHECK(out.header().metadata.at("format") == "pt");
  // The all-zero weight gets scale 1.0 and zero codes.
  const auto zero_scale = out.bytes(*out.find("transformer_blocks.1.attn.to_k.weight_scale"));
  CHECK(f32_from_le(zero_scale.data) == 1.0f);
  CHECK_FALSE(path_exists(dir + "/out.safetensors.partial"));
}

TEST_CASE("prefixed full-checkpoint names get the same preset", "[convert]") {
  const std::string dir = scratch_dir("convert_e2e_prefixed");
  SyntheticModelOptions model;
  model.prefix = "model.diffusion_model.";
  write_synthetic_model(dir + "/in.safetensors", model);
  convert_library(dir + "/in.safetensors", dir + "/out.safetensors", {}, 1);
  const SafetensorsFile out(dir + "/out.safetensors");
  const auto declared = check_spec5(out);
  CHECK(declared.size() == 2 * 14 - 1);
  CHECK(declared.count("model.diffusion_model.transformer_blocks.0.img_mod.1") == 0);
  CHECK(declared.count("model.diffusion_model.transformer_blocks.1.img_mod.1") == 1);
  CHECK(out.find("model.diffusion_model.img_in.weight")->dtype == Dtype::BF16);
}

TEST_CASE("binary output is identical for 1 and 2 threads and equals the library's", "[convert]") {
  const std::string dir = scratch_dir("convert_e2e_threads");
  write_synthetic_model(dir + "/in.safetensors", {});
  convert_library(dir + "/in.safetensors", dir + "/lib.safetensors", {}, 2);
  for (const char* threads : {"1", "2"}) {
    const std::string out = dir + "/out" + threads + ".safetensors";
    remove_path(out);
    const auto result = run_binary({"convert", "-i", dir + "/in.safetensors", "-o", out,
                                    "--device", "cpu", "--threads", threads}, dir);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(read_file(out) == read_file(dir + "/lib.safetensors"));
  }
  // Positionals and the reference converter's bare `-i/-o` form do the same.
  remove_path(dir + "/pos.safetensors");
  auto positional = run_binary({"convert", dir + "/in.safetensors", dir + "/pos.safetensors", "-q"}, dir);
  REQUIRE(positional.exit_code == 0);
  CHECK(positional.err.empty());
  CHECK(read_file(dir + "/pos.safetensors") == read_file(dir + "/lib.safetensors"));
  remove_path(dir + "/bare.safetensors");
  auto bare = run_binary({"-i", dir + "/in.safetensors", "-o", dir + "/bare.safetensors"}, dir);
  REQUIRE(bare.exit_code == 0);
  CHECK(bare.err.find("quantized") != std::string::npos);  // the summary line
  CHECK(read_file(dir + "/bare.safetensors") == read_file(dir + "/lib.safetensors"));
}

TEST_CASE("dry run prints the plan and writes nothing", "[convert]") {
  const std::string dir = scratch_dir("convert_e2e_dry_run");
  write_synthetic_model(dir + "/in.safetensors", {});
  remove_path(dir + "/out.safetensors");
  const auto result = run_binary({"convert", "-i", dir + "/in.safetensors", "-o",
                                  dir + "/out.safetensors", "--dry-run"}, dir);
  REQUIRE(result.exit_code == 0);
  CHECK_FALSE(path_exists(dir + "/out.safetensors"));
  CHECK_FALSE(path_exists(dir + "/out.safetensors.partial"));
  CHECK(result.out.find("keep     img_in.weight [64, 64] BF16  (keep: qwen-image preset (img_in))\n") !=
        std::string::npos);
  CHECK(result.out.find("quantize transformer_blocks.1.img_mod.1.weight [384, 64] BF16 -> F8_E4M3  (quantize)\n") !=
        std::string::npos);
  CHECK(result.out.find("keep     txt_norm.weight [80] BF16  (keep: 1-D)\n") != std::string::npos);
  CHECK(result.out.find("27 quantized") != std::string::npos);

  // With a renaming option the plan also names what each tensor becomes.
  const auto renamed = run_binary({"convert", "-i", dir + "/in.safetensors", "--dry-run",
                                   "--add-prefix", "model.diffusion_model."}, dir);
  REQUIRE(renamed.exit_code == 0);
  CHECK(renamed.out.find("quantize transformer_blocks.1.img_mod.1.weight [384, 64] BF16 -> F8_E4M3 "
                         "as model.diffusion_model.transformer_blocks.1.img_mod.1.weight  "
                         "(quantize)\n") != std::string::npos);
  CHECK(renamed.out.find("keep     txt_norm.weight [80] BF16 as "
                         "model.diffusion_model.txt_norm.weight  (keep: 1-D)\n") !=
        std::string::npos);
}

TEST_CASE("options reach the output: input scales, full-precision mm, excludes", "[convert]") {
  const std::string dir = scratch_dir("convert_e2e_options");
  write_synthetic_model(dir + "/in.safetensors", {});
  remove_path(dir + "/out.safetensors");
  const auto result = run_binary({"convert", "-i", dir + "/in.safetensors", "-o",
                                  dir + "/out.safetensors", "--write-input-scale",
                                  "--full-precision-mm", "--exclude", "mlp",
                                  "--include=^img_in\\.", "--preset", "qwen-image"}, dir);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const SafetensorsFile out(dir + "/out.safetensors");
  const auto declared = check_spec5(out);
  CHECK(declared.size() == 2 * 10 - 1 + 1);  // no MLPs, plus img_in
  CHECK(declared.count("img_in") == 1);
  CHECK(declared.count("transformer_blocks.0.img_mlp.net.2") == 0);
  const auto input_scale = out.bytes(*out.find("img_in.input_scale"));
  CHECK(f32_from_le(input_scale.data) == 1.0f);
  const auto marker = out.bytes(*out.find("img_in.comfy_quant"));
  CHECK(std::string(marker.data, marker.data + marker.size) ==
        "{\"format\": \"float8_e4m3fn\", \"full_precision_matrix_mult\": true}");
}

TEST_CASE("convert --verify checks the output against the input before it appears", "[convert][verify]") {
  const std::string dir = scratch_dir("convert_e2e_verify");
  write_synthetic_model(dir + "/in.safetensors", {});
  convert_library(dir + "/in.safetensors", dir + "/lib.safetensors", {}, 1);
  remove_path(dir + "/out.safetensors");
  const auto result = run_binary({"convert", "-i", dir + "/in.safetensors", "-o",
                                  dir + "/out.safetensors", "--verify", "--device", "cpu"}, dir);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("verify: PASS, 27 layers identical") != std::string::npos);
  // Verification reads the temporary file; the committed bytes are the plain conversion's.
  CHECK(read_file(dir + "/out.safetensors") == read_file(dir + "/lib.safetensors"));
}
