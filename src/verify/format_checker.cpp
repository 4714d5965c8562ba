// format_checker.cpp — the `_quantization_metadata` layout's rules (docs/format.md#metadata,
// #formats, #verification), layer by layer in each layer's format, then the whole-file rules:
// no undeclared FP8 weight, no stray companion, no NaN (nonfinite_codes.cpp). Without the
// metadata entry, per-layer `.comfy_quant` tensors declare the layers (a WARN). The layout
// itself is parsed by fp8_layout/; this file turns what it finds into findings.
#include "verify/format_checker.hpp"

#include <array>
#include <map>
#include <optional>

#include "plan/comfy_metadata.hpp"
#include "verify/tensor_checks.hpp"

namespace qfp8::verify {
namespace {

using nlohmann::json;
using fp8_layout::ComfyQuantTensor;
using fp8_layout::ConfigProblem;
using fp8_layout::LayerConfigs;
using fp8_layout::LayerFormat;
using fp8_layout::MetadataDeclaration;

const std::string kMetadataKey = kQuantizationMetadataKey;
const std::string kWeight = kWeightSuffix;
const std::string kWeightScale = kWeightScaleSuffix;
const std::string kWeightScale2 = kWeightScale2Suffix;
const std::string kComfyQuant = kComfyQuantSuffix;
// Companions of a layer that no declared layer owns; the legacy names are stray here too.
const std::string kStraySuffixes[] = {kWeightScale, kWeightScale2, kInputScaleSuffix, kComfyQuant,
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

/// The layer's format when the config is an object whose format is one this tool knows.
std::optional<QuantFormat> check_layer_config(const std::string& layer, const json& config,
                                              FindingList& findings) {
  const LayerFormat read = fp8_layout::layer_config_format(config);
  switch (read.problem) {
    case ConfigProblem::None:
      return read.format;
    case ConfigProblem::NotObject:
      findings.err(FindingId::InvalidLayerConfig, layer,
                   "layer config is not a JSON object: " + config.dump());
      break;
    case ConfigProblem::WrongFormat:
      findings.err(FindingId::InvalidLayerConfig, layer,
                   "layer config format must be one of " + quant_format_list() + ": " +
                       config.dump());
      break;
  }
  return std::nullopt;
}


void check_comfy_quant(const SafetensorsFile& file, const TensorInfo& tensor,
                       const std::string& layer, const json& config,
                       std::optional<QuantFormat> format, FindingList& findings) {
  const std::optional<ComfyQuantTensor> marker = read_comfy_quant(file, tensor, layer, findings);
  if (!marker) return;
  if (marker->config != config) {
    findings.err(FindingId::ComfyQuantMismatch, layer,
                 "'" + tensor.name + "' holds " + marker->config.dump() +
                     " but the metadata declares " + config.dump());
    return;
  }
  if (!format) return;  // an unknown format has no canonical text
  // The layer configs exactly as docs/format.md#layer-comfy-quant writes them (Python
  // json.dumps defaults).
  for (const std::string& canonical :
       {layer_config_json(*format, false), layer_config_json(*format, true)}) {
    if (json::parse(canonical) == marker->config && canonical != marker->text) {
      findings.warn(FindingId::ComfyQuantNotCanonical, layer,
          "'" + tensor.name + "' is not written as json.dumps does: expected '" + canonical + "'");
    }
  }
}

/// The scales of a layer in `format`: the per-tensor F32 scale (`weight_scale`, or nvfp4's
/// `weight_scale_2`) and the block scales (`weight_scale` of mxfp8 and nvfp4). `weight` is
/// null when the weight failed its rules. True when every scale the format needs is usable.
bool check_layer_scales(const SafetensorsFile& file, const std::string& layer, QuantFormat format,
                        const fp8_layout::LayerTensors& tensors, const TensorInfo* weight,
                        FindingList& findings) {
  bool ok = true;
  const TensorInfo* scale = tensors.weight_scale;
  if (scale == nullptr) {
    findings.err(FindingId::MissingWeightScale, layer,
                 "declared layer has no '" + layer + kWeightScale + "'");
    ok = false;
  } else if (has_block_scales(format)) {
    std::array<uint64_t, 2> matrix{};
    if (weight != nullptr) matrix = fp8_layout::weight_matrix_shape(format, *weight);
    ok = check_block_scales(file, *scale, format, weight != nullptr ? &matrix : nullptr, layer,
                            findings) && ok;
  } else {
    ok = check_scale(file, *scale, ScaleKind::Weight, layer, findings) && ok;
  }
  const TensorInfo* scale_2 = tensors.weight_scale_2;
  if (format == QuantFormat::Nvfp4) {
    if (scale_2 == nullptr) {
      findings.err(FindingId::MissingWeightScale2, layer,
                   "nvfp4 layer has no '" + layer + kWeightScale2 + "'");
      return false;
    }
    return check_scale(file, *scale_2, ScaleKind::Weight, layer, findings) && ok;
  }
  if (scale_2 != nullptr) {
    findings.err(FindingId::StrayCompanion, layer,
                 "'" + scale_2->name + "' belongs to no nvfp4 layer: the layer is " +
                     quant_format_name(format));
  }
  return ok;
}

void check_layer(const SafetensorsFile& file, const std::string& layer, const json& config,
                 Fp8Layout& inventory, FindingList& findings) {
  note_layer_tensors(file, layer, inventory.layer_tensors);
  const std::optional<QuantFormat> format = check_layer_config(layer, config, findings);
  const fp8_layout::LayerTensors tensors = fp8_layout::find_layer_tensors(file, layer, false);
  if (const TensorInfo* marker = tensors.comfy_quant) {
    check_comfy_quant(file, *marker, layer, config, format, findings);
  }
  // A format this tool does not know has rules it cannot check: its one finding is above.
  if (!format) return;
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
  const bool weight_ok = weight != nullptr && check_weight(*weight, *format, layer, findings);
  const bool scales_ok = check_layer_scales(file, layer, *format, tensors,
                                            weight_ok ? weight : nullptr, findings);
  if (const TensorInfo* input = tensors.input_scale) {
    check_scale(file, *input, ScaleKind::Input, layer, findings);
  }
  if (weight_ok && scales_ok) inventory.usable.push_back({layer, *format});
}

/// "2 float8_e4m3fn, 1 nvfp4": the usable layers counted by format.
std::string format_counts(const Fp8Layout& inventory) {
  std::map<std::string, std::size_t> counts;
  for (const auto& layer : inventory.usable) ++counts[quant_format_name(layer.format)];
  std::string text;
  for (const auto& [name, count] : counts) {
    text += (text.empty() ? "" : ", ") + std::to_string(count) + " " + name;
  }
  return text;
}

/// FP8 weights nobody declared (ComfyUI uses them unscaled) and companions of no layer.
/// `declared` names the declaration: "declared in '_quantization_metadata'", or by tensors.
void check_undeclared(const SafetensorsFile& file, const Fp8Layout& inventory,
                      const std::string& declared, FindingList& findings) {
  for (const auto& tensor : file.header().tensors) {
    if (inventory.layer_tensors.count(tensor.name) != 0) continue;
    const bool fp8 = tensor.dtype == Dtype::F8_E4M3 || tensor.dtype == Dtype::F8_E5M2;
    if (fp8 && has_suffix(tensor.name, kWeight)) {
      findings.err(FindingId::UndeclaredFp8Weight, fp8_layout::strip_suffix(tensor.name, kWeight),
                   "'" + tensor.name + "' is " + std::string(dtype_name(tensor.dtype)) +
                       " but not " + declared + ": ComfyUI would use it unscaled");
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

Fp8Layout check_layout(const SafetensorsFile& file, FindingList& findings) {
  if (fp8_layout::layout_kind(file) == fp8_layout::LayoutKind::Legacy) {
    return check_legacy_layout(file, findings);
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
                std::to_string(configs.size()) + " layer(s) (" + format_counts(inventory) +
                    "): weights, scales and markers as their formats require");
  }
  // Without a usable declaration every FP8 weight and scale is "undeclared": one error says it.
  if (declared) {
    check_undeclared(file, inventory,
                     in_metadata ? "declared in '" + kMetadataKey + "'"
                                 : std::string("declared by a '.comfy_quant' tensor"),
                     findings);
  }
  return inventory;
}

void check_codes_finite(const SafetensorsFile& file, unsigned threads, FindingList& findings,
                        const NonfiniteCounts& counted) {
  // The legacy marker (F8_E4M3 [0] or [2]) is a flag, not codes: check_marker's rules.
  const TensorInfo* marker = fp8_layout::layout_kind(file) == fp8_layout::LayoutKind::Legacy
                                 ? fp8_layout::find_legacy_marker(file)
                                 : nullptr;
  check_nan_codes(file, marker != nullptr ? marker->name : std::string(), threads, findings,
                  counted);
}

Fp8Layout check_format(const SafetensorsFile& file, unsigned threads, FindingList& findings) {
  Fp8Layout layout = check_layout(file, findings);
  check_codes_finite(file, threads, findings);
  return layout;
}

}  // namespace qfp8::verify
