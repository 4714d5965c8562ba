// test_legacy_layout.cpp — `convert --layout legacy` (docs/format.md#legacy): the `scaled_fp8`
// marker, `L.scale_weight` / `L.scale_input`, nothing of the comfy layout; the output passes
// `verify` as a legacy file and carries the same codes and scales as the comfy layout.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

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

/// small_source_model()'s weights have 128 elements: --include forces both layers.
PlanOptions small_model_options(OutputLayout layout) {
  PlanOptions options;
  options.layout = layout;
  options.include_patterns = {"to_q", "fc1"};
  return options;
}

std::string bytes_text(const SafetensorsFile& file, const std::string& name) {
  const TensorInfo* tensor = file.find(name);
  REQUIRE(tensor != nullptr);
  const ByteView view = file.bytes(*tensor);
  return std::string(reinterpret_cast<const char*>(view.data), view.size);
}

}  // namespace

TEST_CASE("legacy layout equals the hand-built scaled_fp8 file byte for byte", "[legacy]") {
  const std::string dir = scratch_dir("legacy_bytes");
  const FileImage source = small_source_model();
  write_image(dir + "/in.safetensors", source);
  convert_file(dir + "/in.safetensors", dir + "/out.safetensors",
               small_model_options(OutputLayout::Legacy));
  const Bytes expected = serialize(quantize_image_legacy(source, small_model_layers()));
  CHECK(read_file(dir + "/out.safetensors") == expected);
}

TEST_CASE("legacy output passes verify also against its source as a legacy file", "[legacy]") {
  const std::string dir = scratch_dir("legacy_verify");
  write_image(dir + "/in.safetensors", small_source_model());
  convert_file(dir + "/in.safetensors", dir + "/out.safetensors",
               small_model_options(OutputLayout::Legacy));
  verify::VerifyOptions options;
  const verify::VerifyResult plain = verify::verify_file(dir + "/out.safetensors", options);
  INFO(verify::failure_summary(plain));
  CHECK(plain.passed());
  CHECK(plain.legacy_layout);
  CHECK(plain.layers_verified == 2);
  options.source_path = dir + "/in.safetensors";
  const verify::VerifyResult against = verify::verify_file(dir + "/out.safetensors", options);
  INFO(verify::failure_summary(against));
  CHECK(against.passed());
}

TEST_CASE("legacy full-precision mm has a 2-element marker and scale_input 1.0", "[legacy]") {
  const std::string dir = scratch_dir("legacy_options");
  write_image(dir + "/in.safetensors", small_source_model());
  PlanOptions options = small_model_options(OutputLayout::Legacy);
  options.full_precision_mm = true;
  options.write_input_scale = true;
  convert_file(dir + "/in.safetensors", dir + "/out.safetensors", options);
  const SafetensorsFile out(dir + "/out.safetensors");
  const TensorInfo* marker = out.find("scaled_fp8");
  REQUIRE(marker != nullptr);
  CHECK(marker->dtype == Dtype::F8_E4M3);
  CHECK(marker->shape == std::vector<uint64_t>{2});
  CHECK(out.header().metadata.count("_quantization_metadata") == 0);
  for (const auto& layer : small_model_layers()) {
    const TensorInfo* input_scale = out.find(layer + ".scale_input");
    REQUIRE(input_scale != nullptr);
    CHECK(input_scale->shape.empty());
    CHECK(f32_at(out.bytes(*input_scale).data, 0) == 1.0f);
    CHECK(out.find(layer + ".scale_weight") != nullptr);
    // Never mixed with the comfy layout.
    CHECK(out.find(layer + ".weight_scale") == nullptr);
    CHECK(out.find(layer + ".input_scale") == nullptr);
    CHECK(out.find(layer + ".comfy_quant") == nullptr);
  }
  const verify::VerifyResult result = verify::verify_file(dir + "/out.safetensors", {});
  INFO(verify::failure_summary(result));
  CHECK(result.passed());
  CHECK(result.legacy_layout);
}

TEST_CASE("legacy and comfy layouts hold the same codes and scales", "[legacy]") {
  const std::string dir = scratch_dir("legacy_vs_comfy");
  write_synthetic_model(dir + "/in.safetensors", {});
  PlanOptions comfy_options;
  PlanOptions legacy_options;
  legacy_options.layout = OutputLayout::Legacy;
  const ConversionPlan plan =
      convert_file(dir + "/in.safetensors", dir + "/comfy.safetensors", comfy_options);
  convert_file(dir + "/in.safetensors", dir + "/legacy.safetensors", legacy_options);
  const SafetensorsFile comfy(dir + "/comfy.safetensors");
  const SafetensorsFile legacy(dir + "/legacy.safetensors");
  REQUIRE(plan.quantized_count > 0);
  std::size_t layers = 0;
  for (const auto& tensor : legacy.header().tensors) {
    if (tensor.dtype != Dtype::F8_E4M3 || !ends_with(tensor.name, ".weight")) continue;
    const std::string layer = tensor.name.substr(0, tensor.name.size() - 7);
    CHECK(bytes_text(legacy, tensor.name) == bytes_text(comfy, tensor.name));
    CHECK(bytes_text(legacy, layer + ".scale_weight") == bytes_text(comfy, layer + ".weight_scale"));
    ++layers;
  }
  CHECK(layers == plan.quantized_count);
  CHECK(legacy.header().metadata == std::map<std::string, std::string>{{"format", "pt"}});
}

TEST_CASE("legacy plan refuses an input that already has the scale_weight of a layer", "[legacy]") {
  const std::string dir = scratch_dir("legacy_clash");
  FileImage image;
  image.tensors.push_back(bf16_tensor("a.weight", {64, 64}, sample_weights(4096, 7)));
  image.tensors.push_back(f32_tensor("a.scale_weight", {}, {1.0f}));
  write_image(dir + "/in.safetensors", image);
  const SafetensorsFile input(dir + "/in.safetensors");
  PlanOptions legacy;
  legacy.layout = OutputLayout::Legacy;
  try {
    make_conversion_plan(input.header(), legacy, "in");
    FAIL("expected NameClash");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::NameClash);
    CHECK(error.tensor() == "a.scale_weight");
  }
  // The comfy layout adds no such name.
  CHECK_NOTHROW(make_conversion_plan(input.header(), PlanOptions{}, "in"));
}

TEST_CASE("layout names parse and anything else is a usage error", "[legacy]") {
  CHECK(output_layout_from_name("comfy") == OutputLayout::Comfy);
  CHECK(output_layout_from_name("legacy") == OutputLayout::Legacy);
  try {
    output_layout_from_name("old");
    FAIL("expected Usage");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::Usage);
  }
}

TEST_CASE("the legacy marker carries the diffusion-model prefix with the layers", "[legacy]") {
  const std::string dir = scratch_dir("legacy_marker_prefix");
  write_synthetic_model(dir + "/in.safetensors", {});
  PlanOptions options;
  options.layout = OutputLayout::Legacy;
  options.add_prefix = "model.diffusion_model.";
  const SafetensorsFile input(dir + "/in.safetensors");
  const ConversionPlan prefixed = make_conversion_plan(input.header(), options, "in");
  CHECK(prefixed.layout.index_of("model.diffusion_model.scaled_fp8") < prefixed.layout.tensors().size());
  CHECK_THROWS_AS(prefixed.layout.index_of("scaled_fp8"), Error);
  options.add_prefix.clear();
  const ConversionPlan bare = make_conversion_plan(input.header(), options, "in");
  CHECK(bare.layout.index_of("scaled_fp8") < bare.layout.tensors().size());
}

TEST_CASE("a prefixed legacy output passes verify as a legacy file", "[legacy][prefix]") {
  const std::string dir = scratch_dir("legacy_prefixed_verify");
  write_synthetic_model(dir + "/in.safetensors", {});
  PlanOptions options;
  options.layout = OutputLayout::Legacy;
  options.add_prefix = "model.diffusion_model.";
  convert_file(dir + "/in.safetensors", dir + "/out.safetensors", options);
  const verify::VerifyResult result = verify::verify_file(dir + "/out.safetensors", {});
  INFO(verify::failure_summary(result));
  CHECK(result.passed());
  CHECK(result.legacy_layout);
  CHECK(result.layers_verified > 0);
  // The prefixed marker is a companion, not an undeclared FP8 tensor.
  CHECK(result.with_id("UndeclaredFp8Weight").empty());
}
