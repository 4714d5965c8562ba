// format_checker.cpp — the `_quantization_metadata` layout's rules (docs/format.md#metadata,
// #verification), layer by layer, then the whole-file rules: no undeclared FP8 weight, no stray
// companion, no NaN. Without the metadata entry, per-layer `.comfy_quant` tensors declare the
// layers (a WARN).
#include "verify/format_checker.hpp"

#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "plan/comfy_metadata.hpp"
#include "safetensors/header_parser.hpp"
#include "verify/tensor_checks.hpp"

namespace qfp8::verify {
namespace {

using nlohmann::json;
using LayerConfigs = std::map<std::string, json>;  // sorted: findings come in name order

const std::string kMetadataKey = kQuantizationMetadataKey;
const std::string kFormat = "float8_e4m3fn";
// Full checkpoints carry this prefix; ComfyUI detects it from the tensor names
// (docs/format.md#comfyui).
const std::string kDiffusionPrefix = "model.diffusion_model.";
const std::string kWeight = kWeightSuffix;
const std::string kWeightScale = kWeightScaleSuffix;
const std::string kInputScale = kInputScaleSuffix;
const std::string kComfyQuant = kComfyQuantSuffix;
const std::string kCompanions[] = {kWeight, kWeightScale, kInputScale, kComfyQuant};
// Companions of a layer that no declared layer owns; the legacy names are stray here too.
const std::string kStraySuffixes[] = {kWeightScale, kInputScale, kComfyQuant, ".scale_weight",
                                      ".scale_input"};

void note_layer_tensors(const SafetensorsFile& file, const std::string& layer,
                        std::set<std::string>& names) {
  for (const auto& suffix : kCompanions) {
    if (file.find(layer + suffix) != nullptr) names.insert(layer + suffix);
  }
}

/// Parses `_quantization_metadata` into the declared layers. False when it is not usable;
/// `present` says whether the entry exists at all.
bool parse_declared_layers(const Header& header, FindingList& findings, LayerConfigs& configs,
                           bool& present) {
  const auto entry = header.metadata.find(kMetadataKey);
  present = entry != header.metadata.end();
  if (!present) return false;
  json root;
  try {
    root = json::parse(entry->second);
  } catch (const json::exception& error) {
    findings.err("InvalidQuantizationMetadata", "",
                 "'" + kMetadataKey + "' is not JSON: " + error.what());
    return false;
  }
  if (!root.is_object() || !root.contains("layers") || !root["layers"].is_object()) {
    findings.err("InvalidQuantizationMetadata", "",
                 "'" + kMetadataKey + "' must be a JSON object with an object 'layers'");
    return false;
  }
  if (!root.contains("format_version") || root["format_version"] != "1.0") {
    findings.warn("FormatVersion", "",
                  "'" + kMetadataKey + "' has no format_version \"1.0\"");
  }
  for (const auto& [layer, config] : root["layers"].items()) configs.emplace(layer, config);
  findings.ok("QuantizationMetadata", "",
              kMetadataKey + ": " + std::to_string(configs.size()) + " layer(s) declared");
  return true;
}

/// A `.comfy_quant` tensor's bytes and the JSON they hold.
struct ComfyQuant {
  std::string text;
  json config;
};

/// Reads a `.comfy_quant` tensor: U8 1-D, UTF-8, JSON. Empty after a ComfyQuantInvalid.
std::optional<ComfyQuant> read_comfy_quant(const SafetensorsFile& file, const TensorInfo& tensor,
                                           const std::string& layer, FindingList& findings) {
  if (tensor.dtype != Dtype::U8 || tensor.shape.size() != 1) {
    findings.err("ComfyQuantInvalid", layer,
                 "'" + tensor.name + "' is " + std::string(dtype_name(tensor.dtype)) + " " +
                     shape_text(tensor.shape) + ", must be U8 1-D");
    return std::nullopt;
  }
  const ByteView view = file.bytes(tensor);
  ComfyQuant marker{std::string(reinterpret_cast<const char*>(view.data), view.size), {}};
  if (!is_valid_utf8(marker.text)) {
    findings.err("ComfyQuantInvalid", layer, "'" + tensor.name + "' is not valid UTF-8");
    return std::nullopt;
  }
  try {
    marker.config = json::parse(marker.text);
  } catch (const json::exception& error) {
    findings.err("ComfyQuantInvalid", layer,
                 "'" + tensor.name + "' is not JSON: " + std::string(error.what()));
    return std::nullopt;
  }
  return marker;
}

/// Without `_quantization_metadata` the per-layer `.comfy_quant` tensors declare the layers:
/// ComfyUI's loader detects them (comfy/utils.py, comfy/ops.py) and convert-to-quant writes
/// such files, but the reference verifier requires the header entry, hence a WARN. False
/// (and the reference verifier's ERR) when there is no `.comfy_quant` tensor either.
bool declared_by_comfy_quant(const SafetensorsFile& file, FindingList& findings,
                             LayerConfigs& configs, LayerInventory& inventory) {
  std::size_t markers = 0;
  for (const auto& tensor : file.header().tensors) {
    if (!ends_with(tensor.name, kComfyQuant)) continue;
    ++markers;
    const std::string layer = strip_suffix(tensor.name, kComfyQuant);
    if (auto marker = read_comfy_quant(file, tensor, layer, findings)) {
      configs.emplace(layer, std::move(marker->config));
    } else {
      note_layer_tensors(file, layer, inventory.layer_tensors);  // reported once, above
    }
  }
  if (markers == 0) {
    findings.err(
        "MissingQuantizationMetadata", "",
        "__metadata__ has no '" + kMetadataKey + "': ComfyUI would use every FP8 weight unscaled");
    return false;
  }
  findings.warn("MissingQuantizationMetadata", "",
                "__metadata__ has no '" + kMetadataKey + "': " + std::to_string(markers) +
                    " layer(s) are declared only by their '.comfy_quant' tensors, which "
                    "ComfyUI reads, but the reference verifier requires the header entry");
  return true;
}

/// True when the config is an object whose format is float8_e4m3fn.
bool check_layer_config(const std::string& layer, const json& config, FindingList& findings) {
  if (!config.is_object()) {
    findings.err("InvalidLayerConfig", layer,
                 "layer config is not a JSON object: " + config.dump());
    return false;
  }
  if (!config.contains("format") || config["format"] != kFormat) {
    findings.err("InvalidLayerConfig", layer,
                 "layer config format must be \"" + kFormat + "\": " + config.dump());
    return false;
  }
  return true;
}

void check_comfy_quant(const SafetensorsFile& file, const TensorInfo& tensor,
                       const std::string& layer, const json& config, FindingList& findings) {
  const std::optional<ComfyQuant> marker = read_comfy_quant(file, tensor, layer, findings);
  if (!marker) return;
  if (marker->config != config) {
    findings.err("ComfyQuantMismatch", layer,
                 "'" + tensor.name + "' holds " + marker->config.dump() +
                     " but the metadata declares " + config.dump());
    return;
  }
  // The layer configs exactly as docs/format.md#layer-comfy-quant writes them (Python json.dumps
  // defaults).
  for (const std::string& canonical : {layer_config_json(false), layer_config_json(true)}) {
    if (json::parse(canonical) == marker->config && canonical != marker->text) {
      findings.warn(
          "ComfyQuantNotCanonical", layer,
          "'" + tensor.name + "' is not written as json.dumps does: expected '" + canonical + "'");
    }
  }
}

/// The same layer with the diffusion-model prefix added or removed, when ITS weight exists.
std::string prefix_counterpart(const SafetensorsFile& file, const std::string& layer) {
  std::string other = layer.rfind(kDiffusionPrefix, 0) == 0 ? layer.substr(kDiffusionPrefix.size())
                                                            : kDiffusionPrefix + layer;
  return file.find(other + kWeight) != nullptr ? other : std::string();
}

void check_layer(const SafetensorsFile& file, const std::string& layer, const json& config,
                 LayerInventory& inventory, FindingList& findings) {
  note_layer_tensors(file, layer, inventory.layer_tensors);
  const bool config_ok = check_layer_config(layer, config, findings);
  const TensorInfo* weight = file.find(layer + kWeight);
  if (weight == nullptr) {
    const std::string other = prefix_counterpart(file, layer);
    if (!other.empty()) {
      findings.err("PrefixMismatch", layer,
                   "metadata names layer '" + layer + "' but the tensors are named '" + other +
                       ".*': ComfyUI's prefix detection then drops the weights");
      note_layer_tensors(file, other, inventory.layer_tensors);
      return;
    }
    findings.err("MissingWeight", layer, "declared layer has no '" + layer + kWeight + "'");
  }
  const bool weight_ok = weight != nullptr && check_fp8_weight(*weight, layer, findings);
  const TensorInfo* scale = file.find(layer + kWeightScale);
  if (scale == nullptr) {
    findings.err("MissingWeightScale", layer,
                 "declared layer has no '" + layer + kWeightScale + "'");
  }
  const bool scale_ok =
      scale != nullptr && check_scale(file, *scale, ScaleKind::Weight, layer, findings);
  if (const TensorInfo* input = file.find(layer + kInputScale)) {
    check_scale(file, *input, ScaleKind::Input, layer, findings);
  }
  if (const TensorInfo* marker = file.find(layer + kComfyQuant)) {
    check_comfy_quant(file, *marker, layer, config, findings);
  }
  if (config_ok && weight_ok && scale_ok) inventory.usable.push_back(layer);
}

/// FP8 weights nobody declared (ComfyUI uses them unscaled) and companions of no layer.
/// `declared` names the declaration: "declared in '_quantization_metadata'", or by tensors.
void check_undeclared(const SafetensorsFile& file, const LayerInventory& inventory,
                      const std::string& declared, FindingList& findings) {
  for (const auto& tensor : file.header().tensors) {
    if (inventory.layer_tensors.count(tensor.name) != 0) continue;
    if (tensor.dtype == Dtype::F8_E4M3 && ends_with(tensor.name, kWeight)) {
      findings.err("UndeclaredFp8Weight", strip_suffix(tensor.name, kWeight),
                   "'" + tensor.name + "' is F8_E4M3 but not " + declared +
                       ": ComfyUI would use it unscaled");
      continue;
    }
    for (const std::string& suffix : kStraySuffixes) {
      if (!ends_with(tensor.name, suffix)) continue;
      findings.err("StrayCompanion", strip_suffix(tensor.name, suffix),
                   "'" + tensor.name + "' belongs to no layer " + declared);
      break;
    }
  }
}

}  // namespace

const TensorInfo* find_legacy_marker(const SafetensorsFile& file) {
  if (const TensorInfo* bare = file.find(kLegacyMarker)) return bare;
  const std::string suffix = std::string(".") + kLegacyMarker;
  for (const auto& tensor : file.header().tensors) {
    if (ends_with(tensor.name, suffix)) return &tensor;
  }
  return nullptr;
}

LayerInventory check_format(const SafetensorsFile& file, unsigned threads, FindingList& findings) {
  if (find_legacy_marker(file) != nullptr) return check_legacy_format(file, threads, findings);
  LayerInventory inventory;
  inventory.scale_suffix = kWeightScale;
  LayerConfigs configs;
  bool in_metadata = false;
  bool declared = parse_declared_layers(file.header(), findings, configs, in_metadata);
  if (!in_metadata) declared = declared_by_comfy_quant(file, findings, configs, inventory);
  inventory.layer_count = configs.size();
  const std::size_t errors_before = findings.error_count();
  for (const auto& [layer, config] : configs) check_layer(file, layer, config, inventory, findings);
  if (findings.error_count() == errors_before && !configs.empty()) {
    findings.ok("Layers", "",
                std::to_string(configs.size()) +
                    " layer(s): F8_E4M3 2-D weights, finite positive F32 scales, markers agree");
  }
  // Without a usable declaration every FP8 weight and scale is "undeclared": one error says it.
  if (declared) {
    check_undeclared(file, inventory,
                     in_metadata ? "declared in '" + kMetadataKey + "'"
                                 : std::string("declared by a '.comfy_quant' tensor"),
                     findings);
  }
  check_nan_codes(file, "", threads, findings);
  return inventory;
}

}  // namespace qfp8::verify
