// test_inspect_formats.cpp — inspect on files of several formats (docs/format.md#formats):
// each quantized layer's format, counted per format, from whichever declaration ComfyUI
// reads (the metadata, the `.comfy_quant` tensors, the legacy marker), and the per-layer view
// of --tensors.
#include <catch2/catch.hpp>

#include <string>

#include "inspect/inspect_summary.hpp"
#include "safetensors/reader.hpp"
#include "support/quant_format_fixtures.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

FileImage mixed_output() {
  return quantize_image_as(format_source_model(),
                           {{kFormatQ, QuantFormat::Nvfp4}, {kFormatFc1, QuantFormat::Mxfp8}});
}

InspectSummary summarize_image(const std::string& name, const FileImage& image) {
  const std::string path =
      write_image(temp_path("inspect_formats_" + name + ".safetensors"), image);
  return summarize(SafetensorsFile(path));
}

const std::map<std::string, uint64_t> kMixedCounts = {{"mxfp8", 1}, {"nvfp4", 1}};

}  // namespace

TEST_CASE("inspect counts the layers of each format and shows each weight's format",
          "[inspect][formats]") {
  const InspectSummary summary = summarize_image("mixed", mixed_output());
  REQUIRE(summary.quantization);
  CHECK(summary.quantization->layers_by_format == kMixedCounts);
  CHECK(summary.declared_by == LayerDeclaration::QuantizationMetadata);
  CHECK(summary.layers_by_format == kMixedCounts);
  CHECK(summary.layer_formats ==
        std::map<std::string, std::string>{{kFormatQ, "nvfp4"}, {kFormatFc1, "mxfp8"}});
  CHECK(summary.weight_scale_tensors == 2);
  CHECK(summary.weight_scale_2_tensors == 1);

  const std::string text = summary_to_text(summary, true);
  INFO(text);
  CHECK(text.find("  nvfp4                        1\n") != std::string::npos);
  CHECK(text.find("scale tensors: 2 weight_scale, 1 weight_scale_2, ") != std::string::npos);
  // [32, 64] nvfp4: 32 x 32 packed bytes; [64, 32] mxfp8: one byte per element.
  CHECK(text.find(kFormatQ + ".weight  U8  [32, 32]  1024 bytes  nvfp4\n") != std::string::npos);
  CHECK(text.find(kFormatFc1 + ".weight  F8_E4M3  [64, 32]  2048 bytes  mxfp8\n") !=
        std::string::npos);
  CHECK(text.find(kFormatQ + ".bias  BF16  [32]  64 bytes\n") != std::string::npos);

  const nlohmann::json json = summary_to_json(summary, true);
  CHECK(json["layers"]["declared_by"] == "_quantization_metadata");
  CHECK(json["layers"]["count"] == 2);
  CHECK(json["layers"]["by_format"]["nvfp4"] == 1);
  CHECK(json["layers"]["formats"][kFormatFc1] == "mxfp8");
  CHECK(json["scale_tensors"]["weight_scale_2"] == 1);
  bool weight_listed = false;
  for (const auto& tensor : json["tensors"]) {
    if (tensor["name"] == kFormatQ + ".weight") {
      weight_listed = true;
      CHECK(tensor["format"] == "nvfp4");
    }
    if (tensor["name"] == kFormatQ + ".bias") CHECK_FALSE(tensor.contains("format"));
  }
  CHECK(weight_listed);
}

TEST_CASE("inspect reads the formats of layers declared only by .comfy_quant tensors",
          "[inspect][formats]") {
  FileImage image = mixed_output();
  image.metadata.erase("_quantization_metadata");
  const InspectSummary summary = summarize_image("comfy_only", image);
  CHECK_FALSE(summary.quantization);
  CHECK(summary.declared_by == LayerDeclaration::ComfyQuantTensors);
  CHECK(summary.layers_by_format == kMixedCounts);
  const std::string text = summary_to_text(summary, false);
  INFO(text);
  CHECK(text.find("quantized layers: 2, declared by the .comfy_quant tensors\n"
                  "  mxfp8                        1\n"
                  "  nvfp4                        1\n") != std::string::npos);
}

TEST_CASE("inspect gives a legacy file's layers the legacy format", "[inspect][formats]") {
  const InspectSummary summary =
      summarize_image("legacy", quantize_image_legacy(small_source_model(), small_model_layers()));
  CHECK(summary.declared_by == LayerDeclaration::LegacyMarker);
  CHECK(summary.layers_by_format == std::map<std::string, uint64_t>{{"float8_e4m3fn", 2}});
  CHECK(summary_to_text(summary, false)
            .find("quantized layers: 2, declared by the scaled_fp8 marker") != std::string::npos);
}
