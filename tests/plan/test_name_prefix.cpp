// test_name_prefix.cpp — `convert --strip-prefix` / `--add-prefix`: every tensor renamed, the
// `_quantization_metadata` layer names following the output names (docs/format.md#comfyui's danger
// case, bare tensors with prefixed metadata, cannot happen), presets decided on the input names,
// strip-then-add round trips, and renames that collide refused as NameClash.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "core/error.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/reader.hpp"
#include "support/convert_checks.hpp"
#include "support/fp8_file_builder.hpp"
#include "support/legacy_convert.hpp"
#include "support/synthetic_model.hpp"
#include "verify/verify.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

const std::string kPrefix = "model.diffusion_model.";

/// Layers declared in the metadata, and layers having an F8_E4M3 weight in the file.
std::pair<std::set<std::string>, std::set<std::string>> declared_and_fp8(const SafetensorsFile& file) {
  std::set<std::string> declared;
  const auto json = nlohmann::json::parse(file.header().metadata.at("_quantization_metadata"));
  for (const auto& item : json.at("layers").items()) declared.insert(item.key());
  std::set<std::string> fp8;
  for (const auto& tensor : file.header().tensors) {
    if (tensor.dtype == Dtype::F8_E4M3) fp8.insert(tensor.name.substr(0, tensor.name.size() - 7));
  }
  return {declared, fp8};
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

/// A synthetic model whose names all carry kPrefix, as full checkpoints do; returns its path.
std::string write_prefixed_model(const std::string& dir) {
  SyntheticModelOptions model;
  model.prefix = kPrefix;
  write_synthetic_model(dir + "/in.safetensors", model);
  return dir + "/in.safetensors";
}

/// The converted file is consistent: no PrefixMismatch, no undeclared weight.
void check_verifies(const std::string& path) {
  const verify::VerifyResult result = verify::verify_file(path, {});
  INFO(verify::failure_summary(result));
  CHECK(result.passed());
}

}  // namespace

TEST_CASE("add-prefix renames every tensor and the metadata layer names", "[prefix]") {
  const std::string dir = scratch_dir("prefix_add");
  write_synthetic_model(dir + "/in.safetensors", {});
  PlanOptions options;
  options.add_prefix = kPrefix;
  const ConversionPlan plan = convert_file(dir + "/in.safetensors", dir + "/out.safetensors", options);
  const SafetensorsFile in(dir + "/in.safetensors");
  const SafetensorsFile out(dir + "/out.safetensors");
  for (const auto& tensor : out.header().tensors) CHECK(starts_with(tensor.name, kPrefix));
  for (const auto& tensor : in.header().tensors) CHECK(out.find(kPrefix + tensor.name) != nullptr);
  const auto [declared, fp8] = declared_and_fp8(out);
  CHECK(declared == fp8);
  CHECK(declared.size() == plan.quantized_count);
  for (const auto& layer : declared) CHECK(starts_with(layer, kPrefix));
  // The Qwen-Image preset was detected and applied on the input names.
  CHECK(plan.applied_preset == Preset::QwenImage);
  CHECK(out.find(kPrefix + "img_in.weight")->dtype == Dtype::BF16);
  CHECK(out.find(kPrefix + "transformer_blocks.0.img_mod.1.weight")->dtype == Dtype::BF16);
  CHECK(out.find(kPrefix + "transformer_blocks.1.img_mod.1.weight")->dtype == Dtype::F8_E4M3);
  check_verifies(dir + "/out.safetensors");
}

TEST_CASE("strip-prefix makes bare names and the preset still applies", "[prefix]") {
  const std::string dir = scratch_dir("prefix_strip");
  const std::string input = write_prefixed_model(dir);
  PlanOptions options;
  options.strip_prefix = kPrefix;
  const ConversionPlan plan = convert_file(input, dir + "/out.safetensors", options);
  const SafetensorsFile out(dir + "/out.safetensors");
  for (const auto& tensor : out.header().tensors) CHECK_FALSE(starts_with(tensor.name, "model."));
  const auto [declared, fp8] = declared_and_fp8(out);
  CHECK(declared == fp8);
  CHECK(declared.count("transformer_blocks.1.attn.to_q") == 1);
  CHECK(plan.applied_preset == Preset::QwenImage);
  // With bare names, the test's own statement of the preset applies.
  for (const auto& tensor : out.header().tensors) {
    TensorInfo as_source = tensor;
    as_source.dtype = Dtype::BF16;
    INFO(tensor.name);
    CHECK((tensor.dtype == Dtype::F8_E4M3) == expect_quantized(as_source, true));
  }
  check_verifies(dir + "/out.safetensors");
}

TEST_CASE("strip then add the same prefix gives the unrenamed output", "[prefix]") {
  const std::string dir = scratch_dir("prefix_roundtrip");
  const std::string input = write_prefixed_model(dir);
  PlanOptions renamed;
  renamed.strip_prefix = kPrefix;
  renamed.add_prefix = kPrefix;
  convert_file(input, dir + "/plain.safetensors", PlanOptions{});
  convert_file(input, dir + "/renamed.safetensors", renamed);
  CHECK(read_file(dir + "/plain.safetensors") == read_file(dir + "/renamed.safetensors"));
}

TEST_CASE("a strip-prefix that matches nothing leaves the names", "[prefix]") {
  const std::string dir = scratch_dir("prefix_unused");
  write_synthetic_model(dir + "/in.safetensors", {});
  PlanOptions options;
  options.strip_prefix = "unet.";
  const SafetensorsFile input(dir + "/in.safetensors");
  const ConversionPlan plan = make_conversion_plan(input.header(), options, "in");
  for (const auto& decision : plan.decisions) CHECK(decision.output_name == decision.name);
}

TEST_CASE("renames that collide are a NameClash", "[prefix]") {
  const std::string dir = scratch_dir("prefix_clash");
  FileImage image;
  image.tensors.push_back(bf16_tensor("a.weight", {64, 64}, sample_weights(4096, 1)));
  image.tensors.push_back(bf16_tensor("p.a.weight", {64, 64}, sample_weights(4096, 2)));
  write_image(dir + "/in.safetensors", image);
  const SafetensorsFile input(dir + "/in.safetensors");
  PlanOptions options;
  options.strip_prefix = "p.";
  try {
    make_conversion_plan(input.header(), options, "in");
    FAIL("expected NameClash");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::NameClash);
    CHECK(error.tensor() == "a.weight");
  }
}

TEST_CASE("a rename onto a companion name of another layer is a NameClash", "[prefix]") {
  const std::string dir = scratch_dir("prefix_companion_clash");
  FileImage image;
  image.tensors.push_back(bf16_tensor("a.weight", {64, 64}, sample_weights(4096, 1)));
  image.tensors.push_back(f32_tensor("p.a.weight_scale", {}, {1.0f}));
  write_image(dir + "/in.safetensors", image);
  const SafetensorsFile input(dir + "/in.safetensors");
  PlanOptions options;
  options.strip_prefix = "p.";
  try {
    make_conversion_plan(input.header(), options, "in");
    FAIL("expected NameClash");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::NameClash);
    CHECK(error.tensor() == "a.weight_scale");
  }
  // Without the rename the two names do not meet.
  CHECK_NOTHROW(make_conversion_plan(input.header(), PlanOptions{}, "in"));
}
