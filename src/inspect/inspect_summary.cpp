// inspect_summary.cpp — gathers the facts of an InspectSummary from a validated header.
#include "inspect/inspect_summary.hpp"

#include "fp8_layout/fp8_layout.hpp"
#include "plan/comfy_metadata.hpp"

namespace qfp8 {
namespace {

std::vector<DtypeTotal> dtype_totals(const std::vector<TensorInfo>& tensors) {
  std::map<Dtype, DtypeTotal> totals;
  for (const auto& tensor : tensors) {
    auto& total = totals[tensor.dtype];
    total.dtype = tensor.dtype;
    ++total.tensors;
    total.bytes += tensor.byte_size();
  }
  std::vector<DtypeTotal> out;
  for (auto it = totals.rbegin(); it != totals.rend(); ++it) out.push_back(it->second);
  return out;
}

void count_companions(const TensorInfo& tensor, InspectSummary& summary) {
  if (has_suffix(tensor.name, kWeightScaleSuffix)) ++summary.weight_scale_tensors;
  if (has_suffix(tensor.name, kWeightScale2Suffix)) ++summary.weight_scale_2_tensors;
  if (has_suffix(tensor.name, kInputScaleSuffix)) ++summary.input_scale_tensors;
  if (has_suffix(tensor.name, kComfyQuantSuffix)) ++summary.comfy_quant_tensors;
  if (has_suffix(tensor.name, fp8_layout::kScaleWeightSuffix)) ++summary.scale_weight_tensors;
  // ComfyUI looks the marker up under the model's key prefix, so any "<prefix>.scaled_fp8".
  if (!summary.legacy_scaled_fp8 && fp8_layout::is_legacy_marker_name(tensor.name)) {
    LegacyMarkerSummary marker;
    marker.tensor_name = tensor.name;
    marker.shape = tensor.shape;
    // Shape [2] means full-precision matmul; [0] (or anything else) means FP8 matmul.
    marker.full_precision_mm = tensor.shape == std::vector<uint64_t>{2};
    summary.legacy_scaled_fp8 = marker;
  }
}

/// A layer config's format as written, "(no format)" when it has none.
std::string config_format(const nlohmann::json& config) {
  const bool has_format =
      config.is_object() && config.contains("format") && config["format"].is_string();
  return has_format ? config["format"].get<std::string>() : "(no format)";
}

void set_layer_formats(InspectSummary& summary, LayerDeclaration declared_by,
                       std::map<std::string, std::string> formats) {
  summary.declared_by = declared_by;
  summary.layer_formats = std::move(formats);
  summary.layers_by_format.clear();
  for (const auto& [layer, format] : summary.layer_formats) ++summary.layers_by_format[format];
}

/// Legacy files: every F8_E4M3 `.weight` is a float8_e4m3fn layer (docs/format.md#legacy).
std::map<std::string, std::string> legacy_layer_formats(const Header& header) {
  std::map<std::string, std::string> formats;
  for (const auto& tensor : header.tensors) {
    if (tensor.dtype == Dtype::F8_E4M3 && has_suffix(tensor.name, kWeightSuffix)) {
      formats[fp8_layout::strip_suffix(tensor.name, kWeightSuffix)] =
          quant_format_name(fp8_layout::kLegacyFormat);
    }
  }
  return formats;
}

}  // namespace

const char* layer_declaration_name(LayerDeclaration declaration) noexcept {
  switch (declaration) {
    case LayerDeclaration::QuantizationMetadata: return "_quantization_metadata";
    case LayerDeclaration::ComfyQuantTensors: return ".comfy_quant tensors";
    case LayerDeclaration::LegacyMarker: return "scaled_fp8 marker";
    case LayerDeclaration::None: break;
  }
  return "none";
}

QuantizationMetadataSummary summarize_quantization_metadata(const std::string& json_text) {
  QuantizationMetadataSummary out;
  const auto document = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    out.problem = "is not valid JSON";
    return out;
  }
  if (!document.is_object()) {
    out.problem = "is not a JSON object";
    return out;
  }
  if (const auto version = document.find("format_version"); version != document.end()) {
    out.format_version = version->is_string() ? version->get<std::string>() : version->dump();
  }
  const auto layers = document.find("layers");
  if (layers == document.end() || !layers->is_object()) {
    out.problem = "has no object 'layers'";
    return out;
  }
  for (const auto& [name, config] : layers->items()) {
    ++out.layer_count;
    const std::string format = config_format(config);
    ++out.layers_by_format[format];
    out.layer_formats[name] = format;
  }
  out.valid = true;
  return out;
}

InspectSummary summarize(const Header& header, const std::string& path, uint64_t file_size) {
  InspectSummary summary;
  summary.path = path;
  summary.file_size = file_size;
  summary.header_size = header.header_size;
  summary.data_size = header.data_size;
  summary.dtypes = dtype_totals(header.tensors);
  summary.has_metadata = header.has_metadata;
  summary.metadata = header.metadata;
  summary.tensors = header.tensors;
  for (const auto& tensor : header.tensors) count_companions(tensor, summary);
  summary.kind = classify_checkpoint(header);
  if (const auto it = header.metadata.find(kQuantizationMetadataKey); it != header.metadata.end()) {
    summary.quantization = summarize_quantization_metadata(it->second);
  }
  // ComfyUI's order (fp8_layout::layout_kind): the marker wins, then the metadata.
  if (summary.legacy_scaled_fp8) {
    set_layer_formats(summary, LayerDeclaration::LegacyMarker, legacy_layer_formats(header));
  } else if (summary.quantization && summary.quantization->valid) {
    set_layer_formats(summary, LayerDeclaration::QuantizationMetadata,
                      summary.quantization->layer_formats);
  }
  return summary;
}

InspectSummary summarize(const SafetensorsFile& file) {
  InspectSummary summary = summarize(file.header(), file.path(), file.file_size());
  if (summary.legacy_scaled_fp8 || summary.quantization || summary.comfy_quant_tensors == 0) {
    return summary;
  }
  std::map<std::string, std::string> formats;
  for (const auto& tensor : file.header().tensors) {
    if (!has_suffix(tensor.name, kComfyQuantSuffix)) continue;
    const fp8_layout::ComfyQuantTensor marker = fp8_layout::read_comfy_quant(file, tensor);
    formats[fp8_layout::strip_suffix(tensor.name, kComfyQuantSuffix)] =
        marker.problem == fp8_layout::ComfyQuantTensor::Problem::None
            ? config_format(marker.config)
            : "(unreadable .comfy_quant)";
  }
  set_layer_formats(summary, LayerDeclaration::ComfyQuantTensors, std::move(formats));
  return summary;
}

std::string truncate_for_display(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  // Never split a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0u) == 0x80u) --cut;
  return text.substr(0, cut) + "...";
}

}  // namespace qfp8
