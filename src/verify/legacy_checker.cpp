// legacy_checker.cpp — the older ComfyUI layout (docs/format.md#legacy): a `scaled_fp8`
// marker tensor (F8_E4M3, shape [0], or [2] for full-precision mm), per FP8 weight an
// `L.scale_weight` F32 scalar and optionally `L.scale_input`; never mixed with `_quantization_metadata`.
#include <string>

#include "plan/comfy_metadata.hpp"
#include "verify/format_checker.hpp"
#include "verify/tensor_checks.hpp"

namespace qfp8::verify {
namespace {

const std::string kWeight = kWeightSuffix;
const std::string kScaleWeight = fp8_layout::kScaleWeightSuffix;
const std::string kScaleInput = fp8_layout::kScaleInputSuffix;

void check_marker(const TensorInfo& marker, FindingList& findings) {
  const bool shape_ok = marker.shape.size() == 1 && (marker.shape[0] == 0 || marker.shape[0] == 2);
  if (marker.dtype != Dtype::F8_E4M3 || !shape_ok) {
    findings.err(FindingId::LegacyMarker, marker.name,
                 "'" + marker.name + "' is " + std::string(dtype_name(marker.dtype)) + " " +
                     shape_text(marker.shape) + ", must be F8_E4M3 [0] or [2]");
    return;
  }
  findings.ok(FindingId::LegacyLayout, "",
              std::string("legacy scaled_fp8 layout") +
                  (marker.shape[0] == 2 ? " (full-precision matrix mult)" : ""));
}

/// The modern layout's keys in a legacy file: ComfyUI would read it one way or the other.
void check_not_mixed(const SafetensorsFile& file, FindingList& findings) {
  if (file.header().metadata.count(kQuantizationMetadataKey) != 0) {
    findings.err(FindingId::LegacyMixed, "",
                 "legacy scaled_fp8 file also has '_quantization_metadata': never mix the layouts");
  }
  for (const auto& tensor : file.header().tensors) {
    for (const char* suffix : {kWeightScaleSuffix, kWeightScale2Suffix,
                               kInputScaleSuffix, kComfyQuantSuffix}) {
      if (has_suffix(tensor.name, suffix)) {
        findings.err(FindingId::LegacyMixed, tensor.name,
            "legacy scaled_fp8 file also has '" + tensor.name + "': never mix the layouts");
      }
    }
  }
}

void check_legacy_layer(const SafetensorsFile& file, const TensorInfo& weight,
                        Fp8Layout& inventory, FindingList& findings) {
  const std::string layer = fp8_layout::strip_suffix(weight.name, kWeight);
  ++inventory.layer_count;
  inventory.layer_tensors.insert(weight.name);
  const bool weight_ok = check_weight(weight, fp8_layout::kLegacyFormat, layer, findings);
  const fp8_layout::LayerTensors tensors = fp8_layout::find_layer_tensors(file, layer, true);
  const TensorInfo* scale = tensors.weight_scale;
  if (scale == nullptr) {
    findings.err(FindingId::MissingScaleWeight, layer,
                 "FP8 weight has no '" + layer + kScaleWeight + "' (legacy layout)");
  } else {
    inventory.layer_tensors.insert(scale->name);
  }
  const bool scale_ok =
      scale != nullptr && check_scale(file, *scale, ScaleKind::Weight, layer, findings);
  if (const TensorInfo* input = tensors.input_scale) {
    inventory.layer_tensors.insert(input->name);
    check_scale(file, *input, ScaleKind::Input, layer, findings);
  }
  if (weight_ok && scale_ok) inventory.usable.push_back({layer, fp8_layout::kLegacyFormat});
}

void check_stray_scales(const SafetensorsFile& file, const Fp8Layout& inventory,
                        FindingList& findings) {
  for (const auto& tensor : file.header().tensors) {
    if (inventory.layer_tensors.count(tensor.name) != 0) continue;
    for (const std::string& suffix : {kScaleWeight, kScaleInput}) {
      if (has_suffix(tensor.name, suffix)) {
        findings.err(FindingId::StrayCompanion, fp8_layout::strip_suffix(tensor.name, suffix),
                     "'" + tensor.name + "' belongs to no F8_E4M3 weight");
      }
    }
  }
}

}  // namespace

Fp8Layout check_legacy_layout(const SafetensorsFile& file, FindingList& findings) {
  Fp8Layout inventory;
  inventory.legacy = true;
  inventory.scale_suffix = kScaleWeight;
  const TensorInfo& marker = *fp8_layout::find_legacy_marker(file);
  inventory.layer_tensors.insert(marker.name);
  check_marker(marker, findings);
  check_not_mixed(file, findings);
  const std::size_t errors_before = findings.error_count();
  const std::vector<const TensorInfo*> weights = fp8_layout::legacy_fp8_weights(file);
  for (const TensorInfo* weight : weights) check_legacy_layer(file, *weight, inventory, findings);
  if (findings.error_count() == errors_before && !weights.empty()) {
    findings.ok(FindingId::Layers, "",
                std::to_string(weights.size()) +
                    " legacy layer(s): F8_E4M3 2-D weights with finite positive F32 scale_weight");
  }
  check_stray_scales(file, inventory, findings);
  return inventory;
}

}  // namespace qfp8::verify
