// test_inspect.cpp — the inspect summary on small hand-planned files, and the
// `qfp8-cuda inspect` binary: JSON fields of a good file, exit codes of bad ones.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "inspect/inspect_summary.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/header_parser.hpp"
#include "safetensors/layout.hpp"
#include "safetensors/writer.hpp"
#include "support/safetensors_bytes.hpp"

namespace {

using qfp8::Dtype;
using qfp8::test::Bytes;

// Two quantized layers in the current format, one with an unknown format, plus the files'
// usual companions: 3 weight_scale, 1 input_scale, 2 comfy_quant.
const std::string kQuantMetadata =
    R"({"format_version": "1.0", "layers": {"l1": {"format": "float8_e4m3fn"}, )"
    R"("l2": {"format": "float8_e4m3fn", "full_precision_matrix_mult": true}, "l3": {"format": "int8"}}})";

qfp8::SafetensorsLayout sample_layout() {
  return qfp8::SafetensorsLayout(
      {
          {"l1.weight", Dtype::F8_E4M3, {4, 4}},
          {"l1.weight_scale", Dtype::F32, {}},
          {"l1.input_scale", Dtype::F32, {}},
          {"l1.comfy_quant", Dtype::U8, {27}},
          {"l2.weight", Dtype::F8_E4M3, {2, 8}},
          {"l2.weight_scale", Dtype::F32, {}},
          {"l2.comfy_quant", Dtype::U8, {27}},
          {"l3.weight_scale", Dtype::F32, {}},
          {"l1.bias", Dtype::BF16, {4}},
      },
      {{"_quantization_metadata", kQuantMetadata}, {"format", "pt"}});
}

// The sample written into memory, zeros for every tensor.
Bytes sample_image() {
  const auto layout = sample_layout();
  qfp8::MemorySink sink;
  qfp8::SafetensorsWriter writer(layout, sink);
  for (const auto& tensor : layout.tensors()) {
    const Bytes zeros(tensor.byte_size());
    writer.write_tensor(tensor.name, zeros.data(), zeros.size());
  }
  writer.finish();
  return sink.bytes();
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// Runs the built binary with `arguments`; stdout captured, stderr discarded.
CommandResult run_binary(const std::string& arguments) {
  const std::string command = std::string(QFP8_BINARY) + " " + arguments + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  CommandResult result;
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, got);
  const int status = ::pclose(pipe);
  REQUIRE(WIFEXITED(status));
  result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace

TEST_CASE("inspect summary counts dtypes, metadata and ComfyUI markers", "[inspect]") {
  const Bytes image = sample_image();
  const auto header = qfp8::parse_file_image(image.data(), image.size(), "sample");
  const auto summary = qfp8::summarize(header, "sample", image.size());

  CHECK(summary.file_size == image.size());
  CHECK(summary.tensor_count() == 9);
  REQUIRE(summary.dtypes.size() == 4);  // dtype descending: F32, BF16, F8_E4M3, U8
  CHECK(summary.dtypes[0].dtype == Dtype::F32);
  CHECK(summary.dtypes[0].tensors == 4);
  CHECK(summary.dtypes[0].bytes == 16);
  CHECK(summary.dtypes[1].dtype == Dtype::BF16);
  CHECK(summary.dtypes[1].bytes == 8);
  CHECK(summary.dtypes[2].dtype == Dtype::F8_E4M3);
  CHECK(summary.dtypes[2].tensors == 2);
  CHECK(summary.dtypes[2].bytes == 32);
  CHECK(summary.dtypes[3].dtype == Dtype::U8);
  CHECK(summary.dtypes[3].bytes == 54);
  CHECK(summary.data_size == 16 + 8 + 32 + 54);

  CHECK(summary.weight_scale_tensors == 3);
  CHECK(summary.input_scale_tensors == 1);
  CHECK(summary.comfy_quant_tensors == 2);
  CHECK(summary.scale_weight_tensors == 0);
  CHECK_FALSE(summary.legacy_scaled_fp8);

  REQUIRE(summary.quantization);
  CHECK(summary.quantization->valid);
  CHECK(summary.quantization->format_version == "1.0");
  CHECK(summary.quantization->layer_count == 3);
  CHECK(summary.quantization->layers_by_format ==
        std::map<std::string, uint64_t>{{"float8_e4m3fn", 2}, {"int8", 1}});

  const auto text = qfp8::summary_to_text(summary, true);
  CHECK(text.find("float8_e4m3fn") != std::string::npos);
  CHECK(text.find("l1.comfy_quant  U8  [27]  27 bytes") != std::string::npos);
}

TEST_CASE("inspect detects the legacy scaled_fp8 marker", "[inspect]") {
  const qfp8::SafetensorsLayout layout(
      {{"model.diffusion_model.scaled_fp8", Dtype::F8_E4M3, {2}}, {"x.scale_weight", Dtype::F32, {}}}, {});
  qfp8::MemorySink sink;
  qfp8::SafetensorsWriter writer(layout, sink);
  const Bytes zeros(4);
  writer.write_tensor("x.scale_weight", zeros.data(), 4);
  writer.write_tensor("model.diffusion_model.scaled_fp8", zeros.data(), 2);
  writer.finish();
  const auto header = qfp8::parse_file_image(sink.bytes().data(), sink.bytes().size(), "legacy");
  const auto summary = qfp8::summarize(header, "legacy", sink.bytes().size());
  REQUIRE(summary.legacy_scaled_fp8);
  CHECK(summary.legacy_scaled_fp8->full_precision_mm);  // shape [2]
  CHECK(summary.scale_weight_tensors == 1);
  CHECK_FALSE(summary.quantization);
  CHECK_FALSE(summary.has_metadata);
}

TEST_CASE("quantization metadata that is not the expected JSON is reported", "[inspect]") {
  CHECK_FALSE(qfp8::summarize_quantization_metadata("{not json").valid);
  CHECK_FALSE(qfp8::summarize_quantization_metadata("[1]").valid);
  const auto no_layers = qfp8::summarize_quantization_metadata(R"({"format_version": 2})");
  CHECK_FALSE(no_layers.valid);
  CHECK(no_layers.format_version == "2");
  CHECK(no_layers.problem == "has no object 'layers'");
}

TEST_CASE("display truncation never splits a UTF-8 character", "[inspect]") {
  CHECK(qfp8::truncate_for_display("short") == "short");
  const std::string long_ascii(100, 'a');
  CHECK(qfp8::truncate_for_display(long_ascii) == std::string(80, 'a') + "...");
  // 79 ASCII bytes then "é" (2 bytes): byte 80 is inside the é, so cut before it.
  const std::string split = std::string(79, 'b') + "\xc3\xa9" + "tail";
  CHECK(qfp8::truncate_for_display(split) == std::string(79, 'b') + "...");
}

TEST_CASE("qfp8-cuda inspect --json reports a good file", "[inspect]") {
  const std::string path = qfp8::test::temp_path("inspect_good.safetensors");
  qfp8::test::write_file(path, sample_image());
  const auto result = run_binary("inspect --json --tensors '" + path + "'");
  REQUIRE(result.exit_code == 0);
  const auto report = nlohmann::json::parse(result.out);
  CHECK(report["file"] == path);
  CHECK(report["tensor_count"] == 9);
  CHECK(report["file_size"] == sample_image().size());
  CHECK(report["dtypes"]["F8_E4M3"]["tensors"] == 2);
  CHECK(report["dtypes"]["U8"]["bytes"] == 54);
  CHECK(report["metadata"]["format"] == "pt");
  CHECK(report["metadata"]["_quantization_metadata"] == kQuantMetadata);  // in full
  CHECK(report["quantization"]["layers_by_format"]["float8_e4m3fn"] == 2);
  CHECK(report["quantization"]["format_version"] == "1.0");
  CHECK(report["legacy_scaled_fp8"].is_null());
  REQUIRE(report["tensors"].size() == 9);
  CHECK(report["tensors"][0]["dtype"] == "F32");
  qfp8::test::remove_path(path);
}

TEST_CASE("qfp8-cuda inspect exits 2 on a corrupt file and 3 on a missing one", "[inspect]") {
  const std::string path = qfp8::test::temp_path("inspect_corrupt.safetensors");
  Bytes image = sample_image();
  image.push_back(0);  // one trailing byte: MetadataIncompleteBuffer
  qfp8::test::write_file(path, image);
  CHECK(run_binary("inspect '" + path + "'").exit_code == 2);
  CHECK(run_binary("inspect --json '" + path + "'").out.empty());
  CHECK(run_binary("inspect '" + path + ".missing'").exit_code == 3);
  CHECK(run_binary("inspect").exit_code == 1);
  qfp8::test::remove_path(path);
}
