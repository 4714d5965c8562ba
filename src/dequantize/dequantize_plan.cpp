// dequantize_plan.cpp — the output layout of a dequantization: the layers of the input's
// layout (found by the format rules, in either layout, any format) become BF16 of the model's
// shape, their companions are dropped, every other tensor is copied.
#include <array>
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

/// How the layer's weight is dequantized: its format, scales and matrix.
DequantizeOutput layer_output(const SafetensorsFile& input, const fp8_layout::Fp8Layout& layout,
                              const fp8_layout::UsableLayer& layer) {
  DequantizeOutput out;
  out.name = layer.name + kWeightSuffix;
  out.dequantize = true;
  out.format = layer.format;
  if (has_tensor_scale(layer.format)) {
    const std::string scale = layer.name + (layer.format == QuantFormat::Nvfp4
                                                ? kWeightScale2Suffix
                                                : layout.scale_suffix);
    out.scale = fp8_layout::read_f32_scalar(input, *input.find(scale));
  }
  if (has_block_scales(layer.format)) out.block_scales = layer.name + kWeightScaleSuffix;
  const std::array<uint64_t, 2> matrix =
      fp8_layout::weight_matrix_shape(layer.format, *input.find(out.name));
  out.rows = matrix[0];
  out.cols = matrix[1];
  return out;
}

}  // namespace

DequantizePlan make_dequantize_plan(const SafetensorsFile& input,
                                    const fp8_layout::Fp8Layout& layout) {
  std::map<std::string, DequantizeOutput> layer_of;  // weight name -> how to dequantize it
  for (const auto& layer : layout.usable) {
    DequantizeOutput output = layer_output(input, layout, layer);
    layer_of.emplace(output.name, std::move(output));
  }
  std::vector<PlannedTensor> planned;
  std::vector<DequantizeOutput> outputs;
  std::size_t dropped = 0;
  for (const auto& tensor : input.header().tensors) {
    const auto layer = layer_of.find(tensor.name);
    if (layer != layer_of.end()) {
      planned.push_back({tensor.name, Dtype::BF16, {layer->second.rows, layer->second.cols}});
      outputs.push_back(layer->second);
    } else if (layout.layer_tensors.count(tensor.name) != 0) {
      ++dropped;  // scales, input scale, comfy_quant or the scaled_fp8 marker
    } else {
      DequantizeOutput copy;
      copy.name = tensor.name;
      planned.push_back({tensor.name, tensor.dtype, tensor.shape});
      outputs.push_back(std::move(copy));
    }
  }
  DequantizePlan plan(output_layout(input.header(), std::move(planned)));
  std::map<std::string, const DequantizeOutput*> by_name;
  for (const auto& output : outputs) by_name[output.name] = &output;
  for (const auto& tensor : plan.layout.tensors()) plan.outputs.push_back(*by_name.at(tensor.name));
  plan.legacy = layout.legacy;
  plan.layers = layer_of.size();
  plan.copied = outputs.size() - layer_of.size();
  plan.dropped = dropped;
  return plan;
}

}  // namespace qfp8
