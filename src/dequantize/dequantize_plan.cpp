// dequantize_plan.cpp — the output layout of a dequantization: the layers of the input's
// FP8 layout (found by the format rules, in either layout) become BF16, their companions
// are dropped, every other tensor is copied.
#include <map>

#include "dequantize/dequantize.hpp"
#include "plan/comfy_metadata.hpp"

namespace qfp8 {
namespace {

/// Input metadata minus `_quantization_metadata`; written as an empty `__metadata__` only
/// when the input had one that was already empty, so both layouts give the same header.
SafetensorsLayout output_layout(const Header& header, std::vector<PlannedTensor> planned) {
  std::map<std::string, std::string> metadata = header.metadata;
  const bool erased = metadata.erase(kQuantizationMetadataKey) > 0;
  const bool always = header.has_metadata && !(erased && metadata.empty());
  return SafetensorsLayout(std::move(planned), std::move(metadata), always);
}

}  // namespace

DequantizePlan make_dequantize_plan(const SafetensorsFile& input,
                                    const fp8_layout::Fp8Layout& layout) {
  std::map<std::string, float> scale_of;  // weight name -> its scale
  for (const auto& layer : layout.usable) {
    const TensorInfo* scale = input.find(layer + layout.scale_suffix);
    scale_of[layer + kWeightSuffix] = fp8_layout::read_f32_scalar(input, *scale);
  }
  std::vector<PlannedTensor> planned;
  std::vector<DequantizeOutput> outputs;
  std::size_t dropped = 0;
  for (const auto& tensor : input.header().tensors) {
    const auto scale = scale_of.find(tensor.name);
    if (scale != scale_of.end()) {
      planned.push_back({tensor.name, Dtype::BF16, tensor.shape});
      outputs.push_back({tensor.name, true, scale->second});
    } else if (layout.layer_tensors.count(tensor.name) != 0) {
      ++dropped;  // scale, input scale, comfy_quant or the scaled_fp8 marker
    } else {
      planned.push_back({tensor.name, tensor.dtype, tensor.shape});
      outputs.push_back({tensor.name, false, 1.0f});
    }
  }
  DequantizePlan plan(output_layout(input.header(), std::move(planned)));
  std::map<std::string, const DequantizeOutput*> by_name;
  for (const auto& output : outputs) by_name[output.name] = &output;
  for (const auto& tensor : plan.layout.tensors()) plan.outputs.push_back(*by_name.at(tensor.name));
  plan.legacy = layout.legacy;
  plan.layers = scale_of.size();
  plan.copied = outputs.size() - scale_of.size();
  plan.dropped = dropped;
  return plan;
}

}  // namespace qfp8
