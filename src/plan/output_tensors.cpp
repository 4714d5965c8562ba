// output_tensors.cpp — per-layer output tensors of the comfy and legacy layouts
// (docs/format.md#layer, #legacy), for each format (#formats).
#include "plan/output_tensors.hpp"


#include "plan/comfy_metadata.hpp"
#include "plan/legacy_layout.hpp"
#include "plan/name_prefix.hpp"

namespace qfp8 {
namespace {

std::string one_f32_bytes() {
  // 1.0f little-endian: ComfyUI's default input scale when the tensor is absent
  // (docs/format.md#comfyui).
  return std::string("\x00\x00\x80\x3f", 4);
}

PlannedOutput constant(const std::string& name, Dtype dtype, std::vector<uint64_t> shape,
                       std::string bytes) {
  return {{name, OutputSource::Constant, {}, std::move(bytes)}, {name, dtype, std::move(shape)}};
}

PlannedOutput kept(const TensorInfo& tensor, const std::string& name, bool as_bf16) {
  // BF16 tensors are already BF16; integers and FP8 have no BF16 meaning.
  if (as_bf16 && (tensor.dtype == Dtype::F16 || tensor.dtype == Dtype::F32)) {
    return {{name, OutputSource::ConvertedToBf16, tensor.name, {}}, {name, Dtype::BF16, tensor.shape}};
  }
  return {{name, OutputSource::CopyOfInput, tensor.name, {}}, {name, tensor.dtype, tensor.shape}};
}

void add_layer(const TensorInfo& weight, const TensorDecision& decision,
               const PlanOptions& options, std::vector<PlannedOutput>& outputs) {
  const std::string& weight_name = decision.output_name;
  const QuantFormat format = decision.format;
  const std::string layer = layer_name_of(weight_name);
  const bool legacy = options.layout == OutputLayout::Legacy;  // resolved by the plan
  const uint64_t rows = weight.shape[0];
  const uint64_t cols = weight.shape[1];
  OutputTensorPlan data{weight_name, OutputSource::QuantizedWeight, weight.name, {}};
  data.format = format;
  outputs.push_back({std::move(data), {weight_name, data_dtype(format), data_shape(format, rows, cols)}});
  if (has_block_scales(format)) {
    const std::string blocks = layer + kWeightScaleSuffix;
    outputs.push_back({{blocks, OutputSource::BlockScales, weight.name, {}},
                       {blocks, block_scale_dtype(format), block_scale_shape(format, rows, cols)}});
  }
  if (has_tensor_scale(format)) {
    // Same value in both layouts: w ≈ fp8_value × scale. nvfp4's per-tensor scale is the
    // second one, after its block scales.
    const std::string scale =
        layer + (legacy ? kScaleWeightSuffix
                        : (format == QuantFormat::Nvfp4 ? kWeightScale2Suffix : kWeightScaleSuffix));
    outputs.push_back({{scale, OutputSource::WeightScale, weight.name, {}}, {scale, Dtype::F32, {}}});
  }
  // ComfyUI quantizes the activations of the block formats itself.
  if (options.write_input_scale && !has_block_scales(format)) {
    outputs.push_back(constant(layer + (legacy ? kScaleInputSuffix : kInputScaleSuffix),
                               Dtype::F32, {}, one_f32_bytes()));
  }
  if (!legacy && options.write_comfy_quant) {
    const std::string config = layer_config_json(format, options.full_precision_mm);
    outputs.push_back(constant(layer + kComfyQuantSuffix, Dtype::U8, {config.size()}, config));
  }
}

/// ComfyUI looks the marker up under the model's key prefix ("{prefix}scaled_fp8") and,
/// loading a full checkpoint, keeps only the keys with that prefix: when every quantized
/// layer is named `model.diffusion_model.*`, so is the marker.
std::string legacy_marker_name(const std::vector<TensorDecision>& decisions) {
  const std::string prefix = kDiffusionModelPrefix;
  for (const auto& decision : decisions) {
    if (decision.quantize && decision.output_name.compare(0, prefix.size(), prefix) != 0) {
      return kScaledFp8Marker;
    }
  }
  return prefix + kScaledFp8Marker;
}

}  // namespace

std::vector<std::string> companion_suffixes(OutputLayout layout, QuantFormat format) {
  if (layout == OutputLayout::Legacy) return {kScaleWeightSuffix, kScaleInputSuffix};
  if (format == QuantFormat::Nvfp4) {
    return {kWeightScaleSuffix, kWeightScale2Suffix, kInputScaleSuffix, kComfyQuantSuffix};
  }
  return {kWeightScaleSuffix, kInputScaleSuffix, kComfyQuantSuffix};
}

std::vector<PlannedOutput> plan_output_tensors(const std::vector<const TensorInfo*>& sources,
                                               const std::vector<TensorDecision>& decisions,
                                               const PlanOptions& options) {
  std::vector<PlannedOutput> outputs;
  outputs.reserve(decisions.size());
  bool any_quantized = false;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const TensorDecision& decision = decisions[i];
    const TensorInfo& tensor = *sources[i];
    if (decision.quantize) {
      add_layer(tensor, decision, options, outputs);
      any_quantized = true;
    } else {
      outputs.push_back(kept(tensor, decision.output_name, options.keep_as_bf16));
    }
  }
  // Like `_quantization_metadata`, the marker is written only when a layer is quantized.
  if (any_quantized && options.layout == OutputLayout::Legacy) {
    outputs.push_back(constant(legacy_marker_name(decisions), Dtype::F8_E4M3,
                               legacy_marker_shape(options.full_precision_mm),
                               legacy_marker_bytes(options.full_precision_mm)));
  }
  return outputs;
}

}  // namespace qfp8
