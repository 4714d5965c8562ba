// inspect_report.cpp — renders an InspectSummary as JSON (for scripts) or as text.
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <iterator>

#include "core/text_format.hpp"
#include "inspect/inspect_summary.hpp"
#include "plan/comfy_metadata.hpp"
#include "platform/printf_format.hpp"

namespace qfp8 {
namespace {

using nlohmann::json;

json quantization_json(const QuantizationMetadataSummary& quantization) {
  json out = {{"valid", quantization.valid},
              {"format_version", quantization.format_version},
              {"layers", quantization.layer_count},
              {"layers_by_format", quantization.layers_by_format}};
  if (!quantization.valid) out["problem"] = quantization.problem;
  return out;
}

/// null for a model; else what `convert` refuses it as, and why (plan/checkpoint_kind.hpp).
json kind_evidence_json(const KindVerdict& verdict) {
  if (verdict.kind == CheckpointKind::Model) return nullptr;
  return {{"format", verdict.format},
          {"example", verdict.example},
          {"count", verdict.count},
          {"reason", verdict.reason}};
}

/// The format of the layer whose `.weight` is `tensor`, or null for any other tensor.
const std::string* weight_format(const InspectSummary& summary, const TensorInfo& tensor) {
  if (!has_suffix(tensor.name, kWeightSuffix)) return nullptr;
  const auto found = summary.layer_formats.find(layer_name_of(tensor.name));
  return found == summary.layer_formats.end() ? nullptr : &found->second;
}

json tensor_json(const InspectSummary& summary, const TensorInfo& tensor) {
  json out = {{"name", tensor.name},
              {"dtype", std::string(dtype_name(tensor.dtype))},
              {"shape", tensor.shape},
              {"bytes", tensor.byte_size()},
              {"data_offsets", {tensor.begin, tensor.end}}};
  if (const std::string* format = weight_format(summary, tensor)) out["format"] = *format;
  return out;
}

json layers_json(const InspectSummary& summary) {
  return {{"declared_by", summary.declared_by == LayerDeclaration::None
                              ? json(nullptr)
                              : json(layer_declaration_name(summary.declared_by))},
          {"count", summary.layer_formats.size()},
          {"by_format", summary.layers_by_format},
          {"formats", summary.layer_formats}};
}

std::string human_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, kUnits[unit]);
  return text;
}


std::string line(const char* format, ...) QFP8_PRINTF_LIKE(1, 2);
// printf into a std::string of the size needed, plus a newline.
std::string line(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int length = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string out(length > 0 ? static_cast<std::size_t>(length) : 0, '\0');
  std::vsnprintf(out.data(), out.size() + 1, format, again);
  va_end(again);
  return out + "\n";
}

void append_markers(std::string& out, const InspectSummary& summary) {
  if (summary.quantization) {
    const auto& q = *summary.quantization;
    if (q.valid) {
      out += line("quantization: _quantization_metadata format_version %s, %" PRIu64 " layers",
                  printable(q.format_version).c_str(), q.layer_count);
      for (const auto& [format, count] : q.layers_by_format) {
        out += line("  %-28s %" PRIu64, printable(format).c_str(), count);
      }
    } else {
      out += line("quantization: _quantization_metadata %s", printable(q.problem).c_str());
    }
  }
  if (summary.legacy_scaled_fp8) {
    out += line("legacy marker: '%s' %s (%s matmul)",
                printable(summary.legacy_scaled_fp8->tensor_name).c_str(),
                shape_text(summary.legacy_scaled_fp8->shape).c_str(),
                summary.legacy_scaled_fp8->full_precision_mm ? "full-precision" : "FP8");
  }
  // The metadata's block above already counts its layers by format.
  if (summary.declared_by == LayerDeclaration::ComfyQuantTensors ||
      summary.declared_by == LayerDeclaration::LegacyMarker) {
    out += line("quantized layers: %zu, declared by the %s", summary.layer_formats.size(),
                layer_declaration_name(summary.declared_by));
    for (const auto& [format, count] : summary.layers_by_format) {
      out += line("  %-28s %" PRIu64, printable(format).c_str(), count);
    }
  }
  out += line("scale tensors: %" PRIu64 " weight_scale, %" PRIu64 " weight_scale_2, %" PRIu64
              " input_scale, %" PRIu64 " comfy_quant, %" PRIu64 " scale_weight (legacy)",
              summary.weight_scale_tensors, summary.weight_scale_2_tensors,
              summary.input_scale_tensors, summary.comfy_quant_tensors,
              summary.scale_weight_tensors);
}

}  // namespace

json summary_to_json(const InspectSummary& summary, bool with_tensors) {
  json dtypes = json::object();
  for (const auto& total : summary.dtypes) {
    dtypes[std::string(dtype_name(total.dtype))] = {{"tensors", total.tensors}, {"bytes", total.bytes}};
  }
  json out = {
      {"file", summary.path},
      {"file_size", summary.file_size},
      {"header_size", summary.header_size},
      {"data_size", summary.data_size},
      {"tensor_count", summary.tensor_count()},
      {"kind", checkpoint_kind_name(summary.kind.kind)},
      {"kind_evidence", kind_evidence_json(summary.kind)},
      {"dtypes", dtypes},
      {"has_metadata", summary.has_metadata},
      {"metadata", summary.metadata},
      {"quantization", summary.quantization ? quantization_json(*summary.quantization) : json(nullptr)},
      {"legacy_scaled_fp8", nullptr},
      {"layers", layers_json(summary)},
      {"scale_tensors",
       {{"weight_scale", summary.weight_scale_tensors},
        {"weight_scale_2", summary.weight_scale_2_tensors},
        {"input_scale", summary.input_scale_tensors},
        {"comfy_quant", summary.comfy_quant_tensors},
        {"scale_weight", summary.scale_weight_tensors}}},
  };
  if (summary.legacy_scaled_fp8) {
    out["legacy_scaled_fp8"] = {{"tensor", summary.legacy_scaled_fp8->tensor_name},
                                {"shape", summary.legacy_scaled_fp8->shape},
                                {"full_precision_mm", summary.legacy_scaled_fp8->full_precision_mm}};
  }
  if (with_tensors) {
    json tensors = json::array();
    for (const auto& tensor : summary.tensors) tensors.push_back(tensor_json(summary, tensor));
    out["tensors"] = std::move(tensors);
  }
  return out;
}

std::string summary_to_text(const InspectSummary& summary, bool with_tensors) {
  std::string out;
  out += line("file:        %s", printable(summary.path).c_str());
  out += line("file size:   %" PRIu64 " bytes (%s)", summary.file_size, human_bytes(summary.file_size).c_str());
  out += line("header:      %" PRIu64 " bytes", summary.header_size);
  out += line("tensors:     %zu", summary.tensor_count());
  // Only for a file `convert` refuses: a model's report reads as it always did.
  if (summary.kind.kind != CheckpointKind::Model) {
    out += line("kind:        %s", printable(describe_kind(summary.kind)).c_str());
  }
  for (const auto& total : summary.dtypes) {
    out += line("  %-12s %8" PRIu64 " tensors %16" PRIu64 " bytes (%s)",
                std::string(dtype_name(total.dtype)).c_str(), total.tensors, total.bytes,
                human_bytes(total.bytes).c_str());
  }
  if (!summary.has_metadata) {
    out += line("metadata:    none");
  } else {
    out += line("metadata:    %zu keys", summary.metadata.size());
    for (const auto& [key, value] : summary.metadata) {
      out += "  " + printable(key) + ": " + printable(truncate_for_display(value)) + "\n";
    }
  }
  append_markers(out, summary);
  if (with_tensors) {
    out += "\n";
    for (const auto& tensor : summary.tensors) {
      const std::string* format = weight_format(summary, tensor);
      out += printable(tensor.name) + "  " + std::string(dtype_name(tensor.dtype)) + "  " +
             shape_text(tensor.shape) + "  " + std::to_string(tensor.byte_size()) + " bytes" +
             (format != nullptr ? "  " + printable(*format) : std::string()) + "\n";
    }
  }
  return out;
}

}  // namespace qfp8
