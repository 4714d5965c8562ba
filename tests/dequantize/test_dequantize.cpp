// test_dequantize.cpp — `qfp8-cuda dequantize`: every quantized layer's weight becomes
// BF16 of (E4M3FN value × scale, in float32), rounded to nearest even — computed here from
// the format definitions; companions, the marker and `_quantization_metadata` are dropped,
// everything else is copied byte for byte; both layouts of one conversion give the same
// bytes; invalid inputs are refused before anything is written.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "dequantize/dequantize.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/reader.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/counting_progress.hpp"
#include "support/fp8_file_builder.hpp"
#include "support/legacy_convert.hpp"
#include "support/synthetic_model.hpp"
#include "verify/verify.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

/// The input checked by the format rules, then planned (as `qfp8-cuda dequantize` does).
DequantizePlan plan_of(const SafetensorsFile& input) {
  return make_dequantize_plan(input, verify::require_valid_format(input, 1, "dequantize"));
}

DequantizePlan dequantize_file(const std::string& in, const std::string& out) {
  const SafetensorsFile input(in);
  DequantizePlan plan = plan_of(input);
  dequantize_to_file(input, plan, out, true);
  return plan;
}

Bytes tensor_bytes(const SafetensorsFile& file, const std::string& name) {
  const TensorInfo* tensor = file.find(name);
  REQUIRE(tensor != nullptr);
  const ByteView view = file.bytes(*tensor);
  return Bytes(view.data, view.data + view.size);
}

ErrorCode code_of_dequantize(const std::string& path) {
  try {
    const SafetensorsFile input(path);
    plan_of(input);
  } catch (const Error& error) {
    return error.code();
  }
  FAIL("expected an error");
  return ErrorCode::Usage;
}

ChildResult run_binary(std::vector<std::string> args, const std::string& dir) {
  args.insert(args.begin(), QFP8_BINARY);
  return run_child(args, dir);
}

}  // namespace

TEST_CASE("dequantized weights are bf16 of e4m3 value times scale and the rest is copied",
          "[dequantize]") {
  const std::string dir = scratch_dir("dequantize_values");
  const FileImage source = small_source_model();
  write_image(dir + "/fp8.safetensors", quantize_image(source, small_model_layers()));
  const DequantizePlan plan = dequantize_file(dir + "/fp8.safetensors", dir + "/out.safetensors");
  CHECK_FALSE(plan.legacy);
  CHECK(plan.layers == 2);
  CHECK(plan.dropped == 4);  // 2 weight_scale + 2 comfy_quant

  const SafetensorsFile fp8(dir + "/fp8.safetensors");
  const SafetensorsFile out(dir + "/out.safetensors");
  for (const auto& layer : small_model_layers()) {
    const TensorInfo* weight = out.find(layer + ".weight");
    REQUIRE(weight != nullptr);
    CHECK(weight->dtype == Dtype::BF16);
    CHECK(weight->shape == fp8.find(layer + ".weight")->shape);
    const float scale = f32_at(tensor_bytes(fp8, layer + ".weight_scale").data(), 0);
    const Bytes codes = tensor_bytes(fp8, layer + ".weight");
    const Bytes bf16 = tensor_bytes(out, layer + ".weight");
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < codes.size(); ++i) {
      const float product = static_cast<float>(e4m3_value(codes[i])) * scale;  // float32
      if (u16_at(bf16.data(), i) != bf16_nearest_even(product)) ++mismatches;
    }
    CHECK(mismatches == 0);
    CHECK(out.find(layer + ".weight_scale") == nullptr);
    CHECK(out.find(layer + ".comfy_quant") == nullptr);
  }
  for (const char* name : {"blocks.0.attn.to_q.bias", "blocks.0.mlp.fc1.bias",
                           "blocks.0.norm.weight", "__index_timestep_zero__"}) {
    CHECK(tensor_bytes(out, name) == tensor_bytes(fp8, name));
  }
  CHECK(out.header().metadata == std::map<std::string, std::string>{{"modelspec.title", "tiny"}});
  CHECK(out.header().tensors.size() == source.tensors.size());
}

TEST_CASE("legacy and comfy outputs of one input dequantize to the same bytes", "[dequantize]") {
  const std::string dir = scratch_dir("dequantize_layouts");
  SyntheticModelOptions model;
  model.metadata = GENERATE(std::map<std::string, std::string>{{"format", "pt"}},
                            std::map<std::string, std::string>{});
  write_synthetic_model(dir + "/in.safetensors", model);
  PlanOptions comfy;
  comfy.write_input_scale = GENERATE(false, true);
  comfy.full_precision_mm = comfy.write_input_scale;
  PlanOptions legacy = comfy;
  legacy.layout = OutputLayout::Legacy;
  convert_file(dir + "/in.safetensors", dir + "/comfy.safetensors", comfy);
  convert_file(dir + "/in.safetensors", dir + "/legacy.safetensors", legacy);
  const DequantizePlan from_comfy =
      dequantize_file(dir + "/comfy.safetensors", dir + "/comfy.bf16.safetensors");
  const DequantizePlan from_legacy =
      dequantize_file(dir + "/legacy.safetensors", dir + "/legacy.bf16.safetensors");
  CHECK(from_legacy.legacy);
  CHECK_FALSE(from_comfy.legacy);
  CHECK(from_comfy.layers == from_legacy.layers);
  CHECK(read_file(dir + "/comfy.bf16.safetensors") == read_file(dir + "/legacy.bf16.safetensors"));
  // Same tensor names, dtypes and shapes as the BF16 source; metadata as the source's.
  const SafetensorsFile in(dir + "/in.safetensors");
  const SafetensorsFile out(dir + "/comfy.bf16.safetensors");
  REQUIRE(out.header().tensors.size() == in.header().tensors.size());
  for (const auto& tensor : in.header().tensors) {
    const TensorInfo* back = out.find(tensor.name);
    REQUIRE(back != nullptr);
    CHECK(back->dtype == Dtype::BF16);
    CHECK(back->shape == tensor.shape);
  }
  CHECK(out.header().metadata == model.metadata);
  CHECK(out.header().has_metadata == !model.metadata.empty());
}

TEST_CASE("a hand-built legacy file dequantizes like its comfy twin", "[dequantize]") {
  const std::string dir = scratch_dir("dequantize_handbuilt");
  const FileImage source = small_source_model();
  write_image(dir + "/comfy.safetensors", quantize_image(source, small_model_layers()));
  write_image(dir + "/legacy.safetensors", quantize_image_legacy(source, small_model_layers()));
  dequantize_file(dir + "/comfy.safetensors", dir + "/a.safetensors");
  const DequantizePlan plan = dequantize_file(dir + "/legacy.safetensors", dir + "/b.safetensors");
  CHECK(plan.legacy);
  CHECK(plan.dropped == 3);  // 2 scale_weight + the scaled_fp8 marker
  CHECK(read_file(dir + "/a.safetensors") == read_file(dir + "/b.safetensors"));
}

TEST_CASE("dequantize refuses inputs that are not valid FP8 checkpoints", "[dequantize]") {
  const std::string dir = scratch_dir("dequantize_refuse");
  write_image(dir + "/plain.safetensors", small_source_model());
  CHECK(code_of_dequantize(dir + "/plain.safetensors") == ErrorCode::VerificationFailed);
  FileImage broken = quantize_image(small_source_model(), small_model_layers());
  broken.erase("blocks.0.mlp.fc1.weight_scale");
  write_image(dir + "/broken.safetensors", broken);
  CHECK(code_of_dequantize(dir + "/broken.safetensors") == ErrorCode::VerificationFailed);
}

TEST_CASE("dequantize command line writes and refuses to overwrite without force",
          "[dequantize][cli]") {
  const std::string dir = scratch_dir("dequantize_cli");
  write_image(dir + "/fp8.safetensors", quantize_image(small_source_model(), small_model_layers()));
  remove_path(dir + "/out.safetensors");
  const ChildResult first =
      run_binary({"dequantize", dir + "/fp8.safetensors", dir + "/out.safetensors"}, dir);
  INFO(first.err);
  CHECK(first.exit_code == 0);
  CHECK(path_exists(dir + "/out.safetensors"));
  const ChildResult again =
      run_binary({"dequantize", dir + "/fp8.safetensors", dir + "/out.safetensors"}, dir);
  CHECK(again.exit_code == 3);
  const ChildResult forced = run_binary(
      {"dequantize", dir + "/fp8.safetensors", dir + "/out.safetensors", "--force"}, dir);
  CHECK(forced.exit_code == 0);
  // -i/-o as for convert give the same file.
  const qfp8::test::Bytes positional_bytes = read_file(dir + "/out.safetensors");
  remove_path(dir + "/flags.safetensors");
  const ChildResult flags = run_binary(
      {"dequantize", "-i", dir + "/fp8.safetensors", "-o", dir + "/flags.safetensors"}, dir);
  CHECK(flags.exit_code == 0);
  CHECK(read_file(dir + "/flags.safetensors") == positional_bytes);
  const ChildResult missing = run_binary({"dequantize", dir + "/fp8.safetensors"}, dir);
  CHECK(missing.exit_code == 1);
  const ChildResult plain = run_binary(
      {"dequantize", dir + "/out.safetensors", dir + "/again.safetensors"}, dir);
  CHECK(plain.exit_code == 2);
  CHECK_FALSE(path_exists(dir + "/again.safetensors"));
}

TEST_CASE("convert refuses FP8 input pointing at dequantize and requantize is a usage error",
          "[dequantize][cli]") {
  const std::string dir = scratch_dir("dequantize_convert_refusal");
  write_image(dir + "/fp8.safetensors", quantize_image(small_source_model(), small_model_layers()));
  const ChildResult refused =
      run_binary({"convert", dir + "/fp8.safetensors", dir + "/out.safetensors"}, dir);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("qfp8-cuda dequantize") != std::string::npos);
  const ChildResult requantize = run_binary(
      {"convert", dir + "/fp8.safetensors", dir + "/out.safetensors", "--requantize"}, dir);
  CHECK(requantize.exit_code == 1);
  CHECK(requantize.err.find("dequantize") != std::string::npos);
}

TEST_CASE("dequantize reports every written tensor and its input bytes to its progress meter",
          "[dequantize]") {
  const std::string dir = scratch_dir("dequantize_progress");
  write_image(dir + "/fp8.safetensors",
              quantize_image(small_source_model(), small_model_layers()));
  const SafetensorsFile input(dir + "/fp8.safetensors");
  const DequantizePlan plan = plan_of(input);
  CountingProgress progress;
  dequantize_to_file(input, plan, dir + "/out.safetensors", true, &progress);
  uint64_t input_bytes = 0;
  for (const auto& output : plan.outputs) input_bytes += input.find(output.name)->byte_size();
  CHECK(progress.tensors == SafetensorsFile(dir + "/out.safetensors").header().tensors.size());
  CHECK(progress.tensors == plan.outputs.size());
  CHECK(progress.bytes == input_bytes);
  CHECK(progress.bytes > 0);
}

TEST_CASE("a file declared only by .comfy_quant tensors dequantizes like its full twin",
          "[dequantize]") {
  const std::string dir = scratch_dir("dequantize_comfy_only");
  const FileImage full = quantize_image(small_source_model(), small_model_layers());
  FileImage comfy_only = full;
  comfy_only.metadata.erase("_quantization_metadata");
  write_image(dir + "/full.safetensors", full);
  write_image(dir + "/comfy_only.safetensors", comfy_only);
  dequantize_file(dir + "/full.safetensors", dir + "/a.safetensors");
  const DequantizePlan plan =
      dequantize_file(dir + "/comfy_only.safetensors", dir + "/b.safetensors");
  CHECK_FALSE(plan.legacy);
  CHECK(plan.layers == 2);
  CHECK(plan.dropped == 4);  // 2 weight_scale + 2 comfy_quant
  CHECK(read_file(dir + "/a.safetensors") == read_file(dir + "/b.safetensors"));
}

TEST_CASE("convert's advice for an FP8 input is true: dequantize where it can restore it",
          "[dequantize][cli]") {
  const std::string dir = scratch_dir("dequantize_advice");
  // 64 x 64 = 4096 elements: large enough for convert to quantize them again
  // (docs/format.md#selection).
  FileImage source;
  for (const auto& layer : small_model_layers()) {
    source.tensors.push_back(bf16_tensor(layer + ".weight", {64, 64}, sample_weights(4096, 7)));
    source.tensors.push_back(bf16_tensor(layer + ".bias", {64}, sample_weights(64, 8)));
  }
  FileImage comfy_only = quantize_image(source, small_model_layers());
  comfy_only.metadata.erase("_quantization_metadata");
  const std::vector<std::pair<std::string, FileImage>> restorable = {
      {"comfy", quantize_image(source, small_model_layers())},
      {"legacy", quantize_image_legacy(source, small_model_layers())},
      {"comfy_only", comfy_only},
  };
  for (const auto& [name, image] : restorable) {
    const std::string fp8 = write_image(dir + "/" + name + ".safetensors", image);
    const std::string bf16 = dir + "/" + name + ".bf16.safetensors";
    remove_path(bf16);
    const ChildResult refused = run_binary({"convert", fp8, dir + "/out.safetensors"}, dir);
    INFO(name << ": " << refused.err);
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("already quantized") != std::string::npos);
    CHECK(refused.err.find("; run 'qfp8-cuda dequantize IN OUT' first to get BF16 weights back") !=
          std::string::npos);
    // Following the advice works: dequantize, then convert the BF16 result.
    const ChildResult restored = run_binary({"dequantize", fp8, bf16}, dir);
    INFO(restored.err);
    CHECK(restored.exit_code == 0);
    const ChildResult again =
        run_binary({"convert", bf16, dir + "/" + name + ".again.safetensors", "--force"}, dir);
    INFO(again.err);
    CHECK(again.exit_code == 0);
  }

  // FP8 weights and scales that nothing declares: no pointer at dequantize, which refuses it.
  FileImage undeclared = quantize_image(source, small_model_layers(), false);
  undeclared.metadata.erase("_quantization_metadata");
  const std::string fp8 = write_image(dir + "/undeclared.safetensors", undeclared);
  const ChildResult refused = run_binary({"convert", fp8, dir + "/out.safetensors"}, dir);
  INFO(refused.err);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("run 'qfp8-cuda dequantize") == std::string::npos);
  CHECK(refused.err.find("cannot convert: input is already quantized (F8_E4M3 tensor); nothing "
                         "declares its FP8 layers (no _quantization_metadata, scaled_fp8 marker "
                         "or .comfy_quant tensor), so their scales are unknown and 'qfp8-cuda "
                         "dequantize' cannot restore them: convert the original BF16/F16/F32 "
                         "checkpoint instead") != std::string::npos);
  CHECK(run_binary({"dequantize", fp8, dir + "/undeclared.bf16.safetensors"}, dir).exit_code == 2);
  CHECK_FALSE(path_exists(dir + "/undeclared.bf16.safetensors"));
}
