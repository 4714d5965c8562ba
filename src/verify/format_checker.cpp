// format_checker.cpp — the `_quantization_metadata` layout's rules (docs/format.md#metadata,
// #verification), layer by layer, then the whole-file rules: no undeclared FP8 weight, no
// stray companion, no NaN. Without the metadata entry, per-layer `.comfy_quant` tensors
// declare the layers (a WARN). The layout itself is parsed by fp8_layout/; this file turns what it finds into findings.
#include "verify/format_checker.hpp"

#include <optional>

#include "plan/comfy_metadata.hpp"
#include "verify/tensor_checks.hpp"

namespace qfp8::verify {
namespace {

using nlohmann::json;
using fp8_layout::ComfyQuantTensor;
using fp8_layout::ConfigProblem;
using fp8_layout::LayerConfigs;
using fp8_layout::MetadataDeclaration;

const std::string kMetadataKey = kQuantizationMetadataKey;
const std::string kFormat = fp8_layout::kLayerFormat;
const std::string kWeight = kWeightSuffix;
const std::string kWeightScale = kWeightScaleSuffix;
const std::string kComfyQuant = kComfyQuantSuffix;
// Companions of a layer that no declared layer owns; the legacy names are stray here too.
const std::string kStraySuffixes[] = {kWeightScale, kInputScaleSuffix, kComfyQuant,
                                      fp8_layout::kScaleWeightSuffix,
                                      fp8_layout::kScaleInputSuffix};

void note_layer_tensors(const SafetensorsFile& file, const std::string& layer,
                        std::set<std::string>& names) {
  for (const auto& suffix : fp8_layout::comfy_companion_suffixes()) {
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
  MetadataDeclaration declaration = fp8_layout::parse_quantization_metadata(entry->second);
  if (declaration.problem == MetadataDeclaration::Problem::NotJson) {
    findings.err(FindingId::InvalidQuantizationMetadata, "",
                 "'" + kMetadataKey + "' is not JSON: " + declaration.json_error);
    return false;
  }
  if (declaration.problem == MetadataDeclaration::Problem::NoLayersObject) {
    findings.err(FindingId::InvalidQuantizationMetadata, "",
                 "'" + kMetadataKey + "' must be a JSON object with an object 'layers'");
    return false;
  }
  if (!declaration.format_version_1_0) {
    findings.warn(FindingId::FormatVersion, "",
                  "'" + kMetadataKey + "' has no format_version \"1.0\"");
  }
  configs = std::move(declaration.layers);
  findings.ok(FindingId::QuantizationMetadata, "",
              kMetadataKey + ": " + std::to_string(configs.size()) + " layer(s) declared");
  return true;
}

/// Reads a `.comfy_quant` tensor: U8 1-D, UTF-8, JSON. Empty after a ComfyQuantInvalid.
std::optional<ComfyQuantTensor> read_comfy_quant(const SafetensorsFile& file,
                                                 const TensorInfo& tensor,
                                                 const std::string& layer, FindingList& findings) {
  ComfyQuantTensor marker = fp8_layout::read_comfy_quant(file, tensor);
  switch (marker.problem) {
    case ComfyQuantTensor::Problem::None:
      return marker;
    case ComfyQuantTensor::Problem::NotU8Vector:
      findings.err(FindingId::ComfyQuantInvalid, layer,
                   "'" + tensor.name + "' is " + std::string(dtype_name(tensor.dtype)) + " " +
                       shape_text(tensor.shape) + ", must be U8 1-D");
      break;
    case ComfyQuantTensor::Problem::NotUtf8:
      findings.err(FindingId::ComfyQuantInvalid, layer,
                   "'" + tensor.name + "' is not valid UTF-8");
      break;
    case ComfyQuantTensor::Problem::NotJson:
      findings.err(FindingId::ComfyQuantInvalid, layer,
                   "'" + tensor.name + "' is not JSON: " + marker.json_error);
      break;
  }
  return std::nullopt;
}

/// Without `_quantization_metadata` the per-layer `.comfy_quant` tensors declare the layers:
/// ComfyUI's loader detects them (comfy/utils.py, comfy/ops.py) and convert-to-quant writes
/// such files, but the reference verifier requires the header entry, hence a WARN. False
/// (and the reference verifier's ERR) when there is no `.comfy_quant` tensor either.
bool declared_by_comfy_quant(const SafetensorsFile& file, FindingList& findings,
                             LayerConfigs& configs, Fp8Layout& inventory) {
  std::size_t markers = 0;
  for (const auto& tensor : file.header().tensors) {
    if (!has_suffix(tensor.name, kComfyQuant)) continue;
    ++markers;
    const std::string layer = fp8_layout::strip_suffix(tensor.name, kComfyQuant);
    if (auto marker = read_comfy_quant(file, tensor, layer, findings)) {
      configs.emplace(layer, std::move(marker->config));
    } else {
      note_layer_tensors(file, layer, inventory.layer_tensors);  // reported once, above
    }
  }
  if (markers == 0) {
    findings.err(FindingId::MissingQuantizationMetadata, "",
        "__metadata__ has no '" + kMetadataKey + "': ComfyUI would use every FP8 weight unscaled");
    return false;
  }
  findings.warn(FindingId::MissingQuantizationMetadata, "",
                "__metadata__ has no '" + kMetadataKey + "': " + std::to_string(markers) +
                    " layer(s) are declared only by their '.comfy_quant' tensors, which "
                    "ComfyUI reads, but the reference verifier requires the header entry");
  return true;
}

/// True when the config is an object whose format is float8_e4m3fn.
bool check_layer_config(const std::string& layer, const json& config, FindingList& findings) {
  switch (fp8_layout::layer_config_problem(config)) {
    case ConfigProblem::None:
      return true;
    case ConfigProblem::NotObject:
      findings.err(FindingId::InvalidLayerConfig, layer,
                   "layer config is not a JSON object: " + config.dump());
      break;
    case ConfigProblem::WrongFormat:
      findings.err(FindingId::InvalidLayerConfig, layer,
                   "layer config format must be \"" + kFormat + "\": " + config.dump());
      break;
  }
  return false;
}

void check_comfy_quant(const SafetensorsFile& file, const TensorInfo& tensor,
                       const std::string& layer, const json& config, FindingList& findings) {
  const std::optional<ComfyQuantTensor> marker = read_comfy_quant(file, tensor, layer, findings);
  if (!marker) return;
  if (marker->config != config) {
    findings.err(FindingId::ComfyQuantMismatch, layer,
                 "'" + tensor.name + "' holds " + marker->config.dump() +
                     " but the metadata declares " + config.dump());
    return;
  }
  // The layer configs exactly as docs/format.md#layer-comfy-quant writes them (Python json.dumps
  // defaults).
  for (const std::string& canonical : {layer_config_json(false), layer_config_json(true)}) {
    if (json::parse(canonical) == marker->config && canonical != marker->text) {
      findings.warn(FindingId::ComfyQuantNotCanonical, layer,
          "'" + tensor.name + "' is not written as json.dumps does: expected '" + canonical + "'");
    }
  }
}

void check_layer(const SafetensorsFile& file, const std::string& layer, const json& config,
                 Fp8Layout& inventory, FindingList& findings) {
  note_layer_tensors(file, layer, inventory.layer_tensors);
  const bool config_ok = check_layer_config(layer, config, findings);
  const fp8_layout::LayerTensors tensors = fp8_layout::find_layer_tensors(file, layer, false);
  const TensorInfo* weight = tensors.weight;
  if (weight == nullptr) {
    const std::string other = fp8_layout::prefix_counterpart(file, layer);
    if (!other.empty()) {
      findings.err(FindingId::PrefixMismatch, layer,
                   "metadata names layer '" + layer + "' but the tensors are named '" + other +
                       ".*': ComfyUI's prefix detection then drops the weights");
      note_layer_tensors(file, other, inventory.layer_tensors);
      return;
    }
    findings.err(FindingId::MissingWeight, layer,
                 "declared layer has no '" + layer + kWeight + "'");
  }
  const bool weight_ok = weight != nullptr && check_fp8_weight(*weight, layer, findings);
  const TensorInfo* scale = tensors.weight_scale;
  if (scale == nullptr) {
    findings.err(FindingId::MissingWeightScale, layer,
                 "declared layer has no '" + layer + kWeightScale + "'");
  }
  const bool scale_ok =
      scale != nullptr && check_scale(file, *scale, ScaleKind::Weight, layer, findings);
  if (const TensorInfo* input = tensors.input_scale) {
    check_scale(file, *input, ScaleKind::Input, layer, findings);
  }
  if (const TensorInfo* marker = tensors.comfy_quant) {
    check_comfy_quant(file, *marker, layer, config, findings);
  }
  if (config_ok && weight_ok && scale_ok) inventory.usable.push_back(layer);
}

/// FP8 weights nobody declared (ComfyUI uses them unscaled) and companions of no layer.
/// `declared` names the declaration: "declared in '_quantization_metadata'", or by tensors.
void check_undeclared(const SafetensorsFile& file, const Fp8Layout& inventory,
                      const std::string& declared, FindingList& findings) {
  for (const auto& tensor : file.header().tensors) {
    if (inventory.layer_tensors.count(tensor.name) != 0) continue;
    if (tensor.dtype == Dtype::F8_E4M3 && has_suffix(tensor.name, kWeight)) {
      findings.err(FindingId::UndeclaredFp8Weight, fp8_layout::strip_suffix(tensor.name, kWeight),
                   "'" + tensor.name + "' is F8_E4M3 but not " + declared +
                       ": ComfyUI would use it unscaled");
      continue;
    }
    for (const std::string& suffix : kStraySuffixes) {
      if (!has_suffix(tensor.name, suffix)) continue;
      findings.err(FindingId::StrayCompanion, fp8_layout::strip_suffix(tensor.name, suffix),
                   "'" + tensor.name + "' belongs to no layer " + declared);
      break;
    }
  }
}

}  // namespace

Fp8Layout check_format(const SafetensorsFile& file, unsigned threads, FindingList& findings) {
  if (fp8_layout::layout_kind(file) == fp8_layout::LayoutKind::Legacy) {
    return check_legacy_format(file, threads, findings);
  }
  Fp8Layout inventory;
  inventory.scale_suffix = kWeightScale;
  LayerConfigs configs;
  bool in_metadata = false;
  bool declared = parse_declared_layers(file.header(), findings, configs, in_metadata);
  if (!in_metadata) declared = declared_by_comfy_quant(file, findings, configs, inventory);
  inventory.layer_count = configs.size();
  const std::size_t errors_before = findings.error_count();
  for (const auto& [layer, config] : configs) check_layer(file, layer, config, inventory, findings);
  if (findings.error_count() == errors_before && !configs.empty()) {
    findings.ok(FindingId::Layers, "",
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
