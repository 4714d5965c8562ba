// test_convert_formats_cli.cpp — `convert --format / --format-for / --layer-config` as a user
// runs them: the dry run names each layer's format and rule and counts them, a mixed file's
// layers carry their formats, and bad values are usage errors (exit 1) before anything is
// written.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "safetensors/reader.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

std::string comfy_quant_text(const SafetensorsFile& file, const std::string& layer) {
  const TensorInfo* tensor = file.find(layer + ".comfy_quant");
  REQUIRE(tensor != nullptr);
  const ByteView bytes = file.bytes(*tensor);
  return std::string(reinterpret_cast<const char*>(bytes.data), bytes.size);
}

}  // namespace

TEST_CASE("convert --format nvfp4 --format-for: the dry run and the file agree",
          "[cli][formats]") {
  const std::string dir = scratch_dir("convert_formats");
  const std::string input = dir + "/in.safetensors";
  const std::string output = dir + "/out.safetensors";
  std::remove(output.c_str());
  write_synthetic_model(input, SyntheticModelOptions{});
  const std::vector<std::string> options = {"--format", "nvfp4", "--format-for", "attn=float8_e5m2",
                                            "--format-for", "img_mlp=keep", "--device", "cpu"};
  std::vector<std::string> dry = {QFP8_BINARY, "convert", input, "--dry-run"};
  dry.insert(dry.end(), options.begin(), options.end());
  const ChildResult plan = run_child(dry, dir);
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("-> F8_E5M2  (quantize: float8_e5m2 (--format-for 'attn'))") != std::string::npos);
  CHECK(plan.out.find("-> nvfp4  (quantize: nvfp4 (--format))") != std::string::npos);
  CHECK(plan.out.find("(keep: --format-for 'img_mlp'=keep)") != std::string::npos);
  CHECK(plan.out.find("\nformats: ") != std::string::npos);

  std::vector<std::string> convert = {QFP8_BINARY, "convert", input, output, "-q"};
  convert.insert(convert.end(), options.begin(), options.end());
  const ChildResult run = run_child(convert, dir);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const SafetensorsFile out(output);
  int e5m2 = 0;
  int nvfp4 = 0;
  for (const auto& tensor : out.header().tensors) {
    const std::string& name = tensor.name;
    if (name.size() < 12 || name.compare(name.size() - 12, 12, ".comfy_quant") != 0) continue;
    const std::string layer = name.substr(0, name.size() - 12);
    const std::string config = comfy_quant_text(out, layer);
    const TensorInfo* weight = out.find(layer + ".weight");
    REQUIRE(weight != nullptr);
    CHECK(layer.find("img_mlp") == std::string::npos);  // kept
    if (layer.find("attn") != std::string::npos) {
      CHECK(config == R"({"format": "float8_e5m2"})");
      CHECK(weight->dtype == Dtype::F8_E5M2);
      ++e5m2;
    } else {
      CHECK(config == R"({"format": "nvfp4"})");
      CHECK(weight->dtype == Dtype::U8);
      CHECK(out.find(layer + ".weight_scale_2") != nullptr);
      ++nvfp4;
    }
  }
  CHECK(e5m2 > 0);
  CHECK(nvfp4 > 0);
}

TEST_CASE("convert: bad formats and rules are usage errors before any output", "[cli][formats]") {
  const std::string dir = scratch_dir("convert_formats_errors");
  const std::string input = dir + "/in.safetensors";
  const std::string output = dir + "/out.safetensors";
  std::remove(output.c_str());
  write_synthetic_model(input, SyntheticModelOptions{});
  const auto exit_of = [&](std::vector<std::string> extra, const std::string& message) {
    std::vector<std::string> args = {QFP8_BINARY, "convert", input, output};
    args.insert(args.end(), extra.begin(), extra.end());
    const ChildResult run = run_child(args, dir);
    INFO(run.err);
    CHECK(run.err.find(message) != std::string::npos);
    CHECK_FALSE(std::ifstream(output).good());
    return run.exit_code;
  };
  CHECK(exit_of({"--format", "int8"}, "unknown --format 'int8'") == 1);
  CHECK(exit_of({"--format-for", "x=fp4"}, "unknown format 'fp4'") == 1);
  CHECK(exit_of({"--format-for", "(=nvfp4"}, "invalid --format-for '('") == 1);
  CHECK(exit_of({"--format", "mxfp8", "--layout", "legacy"}, "cannot write --layout legacy") == 1);
  CHECK(exit_of({"--layer-config", dir + "/missing.json"}, "cannot read --layer-config") == 1);
}
