// family_end_to_end.hpp — one model family end to end through the binary: `synth --model`
// writes its synthetic checkpoint, `convert` with default options detects the family and
// converts it, `verify --against` re-derives every byte. The result says what was detected
// and which layers ended up FP8 and which eligible ones the family kept, for the test to
// compare with lists written from the model's definition.
#pragma once

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "safetensors/reader.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"

namespace qfp8::test {

struct FamilyConversion {
  std::string convert_log;             // convert's stdout and stderr (the detection line)
  bool legacy = false;                 // the legacy layout: a scaled_fp8 marker, no metadata
  std::set<std::string> quantized;     // layers declared in _quantization_metadata (legacy:
                                       // the layers with an L.scale_weight)
  std::set<std::string> kept;          // layers whose 2-D .weight of >= 4096 elements stayed as is
  std::set<std::string> all_layers;    // every layer with a .weight, quantized or not
};

inline ChildResult run_qfp8(std::vector<std::string> args) {
  args.insert(args.begin(), QFP8_BINARY);
  return run_child(args, process_scratch_root());
}

/// Synthesizes `model` (`synth_args`: e.g. {"--blocks", "2", "--width-div", "16"}), converts
/// it with `convert_args` (defaults when empty) and verifies the output against the source;
/// REQUIREs each step to exit 0.
inline FamilyConversion convert_synthetic_family(const std::string& model,
                                                 const std::vector<std::string>& synth_args,
                                                 const std::vector<std::string>& convert_args = {}) {
  const std::string source = temp_path(model + ".bf16.safetensors");
  const std::string output = temp_path(model + ".fp8.safetensors");
  std::vector<std::string> synth = {"synth", "--model", model, "--force", source};
  synth.insert(synth.end(), synth_args.begin(), synth_args.end());
  const ChildResult synthesized = run_qfp8(synth);
  INFO(synthesized.err);
  REQUIRE(synthesized.exit_code == 0);

  std::vector<std::string> convert = {"convert", "-i", source, "-o", output, "--force"};
  convert.insert(convert.end(), convert_args.begin(), convert_args.end());
  const ChildResult converted = run_qfp8(convert);
  INFO(converted.err);
  REQUIRE(converted.exit_code == 0);
  const ChildResult verified = run_qfp8({"verify", output, "--against", source});
  INFO(verified.out + verified.err);
  REQUIRE(verified.exit_code == 0);

  FamilyConversion result;
  result.convert_log = converted.out + converted.err;
  const SafetensorsFile out(output);
  const auto& metadata = out.header().metadata;
  if (metadata.count("_quantization_metadata") == 1) {
    const auto json = nlohmann::json::parse(metadata.at("_quantization_metadata"));
    for (const auto& [layer, config] : json.at("layers").items()) result.quantized.insert(layer);
  }
  const std::string scale_suffix = ".scale_weight";
  for (const auto& tensor : out.header().tensors) {
    if (tensor.name == "scaled_fp8") result.legacy = true;
    if (ends_with(tensor.name, scale_suffix)) {
      result.quantized.insert(tensor.name.substr(0, tensor.name.size() - scale_suffix.size()));
    }
  }
  const std::string suffix = ".weight";
  for (const auto& tensor : out.header().tensors) {
    const auto& name = tensor.name;
    if (!ends_with(name, suffix)) continue;
    const std::string layer = name.substr(0, name.size() - suffix.size());
    result.all_layers.insert(layer);
    const bool eligible = tensor.shape.size() == 2 && tensor.numel >= 4096;
    if (eligible && result.quantized.count(layer) == 0) result.kept.insert(layer);
  }
  return result;
}

}  // namespace qfp8::test
