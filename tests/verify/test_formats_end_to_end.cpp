// test_formats_end_to_end.cpp — what `convert --format F` writes, read back by the other
// commands: for every format the output passes verify and verify --against its source,
// dequantizes to BF16 in the source's shapes, and inspect names each layer's format.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "dequantize/dequantize.hpp"
#include "inspect/inspect_summary.hpp"
#include "safetensors/reader.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/legacy_convert.hpp"
#include "support/quant_format_fixtures.hpp"
#include "verify/verify.hpp"
#include "verify/verify_report.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

/// Two layers large enough to be quantized (4096 elements and more, docs/format.md#selection)
/// whose shapes are multiples of every block, a bias and a norm.
FileImage convertible_source() {
  FileImage image;
  image.tensors.push_back(bf16_tensor("a.weight", {64, 64}, sample_weights(4096, 41)));
  image.tensors.push_back(bf16_tensor("a.bias", {64}, sample_weights(64, 42)));
  image.tensors.push_back(bf16_tensor("b.weight", {32, 256}, sample_weights(8192, 43)));
  image.tensors.push_back(bf16_tensor("norm.weight", {64}, sample_weights(64, 44)));
  return image;
}

}  // namespace

TEST_CASE("convert --format output passes verify, verify --against and dequantizes",
          "[verify][formats][e2e]") {
  const std::string dir = scratch_dir("formats_end_to_end");
  const std::string in = write_image(dir + "/in.safetensors", convertible_source());
  for (const QuantFormat format :
       {QuantFormat::Float8E5m2, QuantFormat::Mxfp8, QuantFormat::Nvfp4}) {
    const std::string name = quant_format_name(format);
    INFO(name);
    PlanOptions options;
    options.format = format;
    const std::string out = dir + "/" + name + ".safetensors";
    convert_file(in, out, options);

    verify::VerifyOptions verify_options;
    verify_options.source_path = in;
    const verify::VerifyResult result = verify::verify_file(out, verify_options);
    INFO(verify::format_text_report(result));
    CHECK(result.passed());
    CHECK(result.warning_count() == 0);
    CHECK(result.layers_verified == 2);
    REQUIRE(result.quality.size() == 2);
    for (const auto& layer : result.quality) {
      CHECK(std::isfinite(layer.snr_db));
      CHECK(layer.snr_db > (format == QuantFormat::Nvfp4 ? 10.0 : 20.0));
    }

    const SafetensorsFile output(out);
    const InspectSummary summary = summarize(output);
    CHECK(summary.layers_by_format == std::map<std::string, uint64_t>{{name, 2}});

    const DequantizePlan plan =
        make_dequantize_plan(output, verify::require_valid_format(output, 1, "dequantize"));
    CHECK(plan.layers == 2);
    const std::string bf16 = dir + "/" + name + ".bf16.safetensors";
    dequantize_to_file(output, plan, bf16, true);
    const SafetensorsFile restored(bf16);
    REQUIRE(restored.header().tensors.size() == 4);
    for (const char* weight : {"a.weight", "b.weight"}) {
      const TensorInfo* tensor = restored.find(weight);
      REQUIRE(tensor != nullptr);
      CHECK(tensor->dtype == Dtype::BF16);
      CHECK(tensor->shape == SafetensorsFile(in).find(weight)->shape);
    }
  }
}

TEST_CASE("qfp8-cuda verify, inspect and dequantize read an nvfp4 conversion",
          "[verify][formats][e2e][cli]") {
  const std::string dir = scratch_dir("formats_cli");
  const std::string in = write_image(dir + "/in.safetensors", convertible_source());
  const std::string out = dir + "/out.safetensors";
  remove_path(out);
  remove_path(dir + "/back.safetensors");
  const auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), QFP8_BINARY);
    return run_child(args, dir);
  };
  const ChildResult converted = run({"convert", in, out, "--format", "nvfp4", "--device", "cpu"});
  INFO(converted.err);
  REQUIRE(converted.exit_code == 0);
  const ChildResult verified = run({"verify", out, "--against", in});
  INFO(verified.out);
  CHECK(verified.exit_code == 0);
  CHECK(verified.out.find("[PASS] 2 layers verified") != std::string::npos);
  const ChildResult inspected = run({"inspect", out, "--json", "--tensors"});
  REQUIRE(inspected.exit_code == 0);
  const nlohmann::json report = nlohmann::json::parse(inspected.out);
  CHECK(report["quantization"]["layers_by_format"]["nvfp4"] == 2);
  CHECK(report["layers"]["formats"]["b"] == "nvfp4");
  const ChildResult back = run({"dequantize", out, dir + "/back.safetensors"});
  INFO(back.err);
  CHECK(back.exit_code == 0);
  CHECK(SafetensorsFile(dir + "/back.safetensors").find("b.weight")->shape ==
        std::vector<uint64_t>{32, 256});
}
