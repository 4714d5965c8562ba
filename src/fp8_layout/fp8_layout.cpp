// fp8_layout.cpp — parsing of an FP8 checkpoint's layout declaration and layer tensors.
#include "fp8_layout/fp8_layout.hpp"

#include <algorithm>
#include <optional>

#include "core/element_traits.hpp"
#include "plan/comfy_metadata.hpp"
#include "safetensors/header_parser.hpp"

namespace qfp8::fp8_layout {

using nlohmann::json;

std::string strip_suffix(const std::string& text, const std::string& suffix) {
  return text.substr(0, text.size() - suffix.size());
}

bool is_legacy_marker_name(const std::string& name) {
  return name == kLegacyMarker || has_suffix(name, std::string(".") + kLegacyMarker);
}

const TensorInfo* find_legacy_marker(const SafetensorsFile& file) {
  if (const TensorInfo* bare = file.find(kLegacyMarker)) return bare;
  for (const auto& tensor : file.header().tensors) {
    if (is_legacy_marker_name(tensor.name)) return &tensor;
  }
  return nullptr;
}

LayoutKind layout_kind(const SafetensorsFile& file) {
  if (find_legacy_marker(file) != nullptr) return LayoutKind::Legacy;
  if (file.header().metadata.count(kQuantizationMetadataKey) != 0) {
    return LayoutKind::QuantizationMetadata;
  }
  for (const auto& tensor : file.header().tensors) {
    if (has_suffix(tensor.name, kComfyQuantSuffix)) return LayoutKind::ComfyQuantTensors;
  }
  return LayoutKind::Undeclared;
}

float read_f32_scalar(const SafetensorsFile& file, const TensorInfo& tensor) {
  return F32Element::widen(F32Element::load(file.bytes(tensor).data, 0));
}

MetadataDeclaration parse_quantization_metadata(const std::string& text) {
  MetadataDeclaration out;
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& error) {
    out.problem = MetadataDeclaration::Problem::NotJson;
    out.json_error = error.what();
    return out;
  }
  if (!root.is_object() || !root.contains("layers") || !root["layers"].is_object()) {
    out.problem = MetadataDeclaration::Problem::NoLayersObject;
    return out;
  }
  out.format_version_1_0 = root.contains("format_version") && root["format_version"] == "1.0";
  for (const auto& [layer, config] : root["layers"].items()) out.layers.emplace(layer, config);
  return out;
}

ComfyQuantTensor read_comfy_quant(const SafetensorsFile& file, const TensorInfo& tensor) {
  ComfyQuantTensor out;
  if (tensor.dtype != Dtype::U8 || tensor.shape.size() != 1) {
    out.problem = ComfyQuantTensor::Problem::NotU8Vector;
    return out;
  }
  const ByteView view = file.bytes(tensor);
  out.text.assign(reinterpret_cast<const char*>(view.data), view.size);
  if (!is_valid_utf8(out.text)) {
    out.problem = ComfyQuantTensor::Problem::NotUtf8;
    return out;
  }
  try {
    out.config = json::parse(out.text);
  } catch (const json::exception& error) {
    out.problem = ComfyQuantTensor::Problem::NotJson;
    out.json_error = error.what();
  }
  return out;
}

LayerFormat layer_config_format(const json& config) {
  LayerFormat out;
  if (!config.is_object()) {
    out.problem = ConfigProblem::NotObject;
    return out;
  }
  const auto format = config.find("format");
  const std::optional<QuantFormat> known =
      format != config.end() && format->is_string()
          ? quant_format_from_name(format->get_ref<const std::string&>())
          : std::nullopt;
  if (!known) {
    out.problem = ConfigProblem::WrongFormat;
    return out;
  }
  out.format = *known;
  return out;
}

LayerTensors find_layer_tensors(const SafetensorsFile& file, const std::string& layer,
                                bool legacy) {
  LayerTensors out;
  out.weight = file.find(layer + kWeightSuffix);
  out.weight_scale = file.find(layer + (legacy ? kScaleWeightSuffix : kWeightScaleSuffix));
  out.input_scale = file.find(layer + (legacy ? kScaleInputSuffix : kInputScaleSuffix));
  if (!legacy) {
    out.weight_scale_2 = file.find(layer + kWeightScale2Suffix);
    out.comfy_quant = file.find(layer + kComfyQuantSuffix);
  }
  return out;
}

const std::vector<std::string>& comfy_companion_suffixes() {
  static const std::vector<std::string> kSuffixes = {
      kWeightSuffix, kWeightScaleSuffix, kWeightScale2Suffix, kInputScaleSuffix,
      kComfyQuantSuffix};
  return kSuffixes;
}

std::array<uint64_t, 2> weight_matrix_shape(QuantFormat format, const TensorInfo& weight) {
  // nvfp4 packs two E2M1 codes per byte along the row (docs/format.md#numerics-nvfp4).
  const uint64_t per_byte = format == QuantFormat::Nvfp4 ? 2 : 1;
  return {weight.shape.at(0), weight.shape.at(1) * per_byte};
}

std::string prefix_counterpart(const SafetensorsFile& file, const std::string& layer) {
  const std::string prefix = kDiffusionPrefix;
  const std::string other =
      layer.rfind(prefix, 0) == 0 ? layer.substr(prefix.size()) : prefix + layer;
  return file.find(other + kWeightSuffix) != nullptr ? other : std::string();
}

std::vector<const TensorInfo*> legacy_fp8_weights(const SafetensorsFile& file) {
  // Header tensors are in offset order; the layers are reported in name order.
  std::vector<const TensorInfo*> weights;
  for (const auto& tensor : file.header().tensors) {
    if (tensor.dtype == Dtype::F8_E4M3 && has_suffix(tensor.name, kWeightSuffix)) {
      weights.push_back(&tensor);
    }
  }
  std::sort(weights.begin(), weights.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->name < b->name; });
  return weights;
}

}  // namespace qfp8::fp8_layout
