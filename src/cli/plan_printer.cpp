// plan_printer.cpp — dry-run text: what the converter would do to each tensor, and why:
// "quantize NAME SHAPE DTYPE -> F8_E4M3 [as OUTPUT_NAME]  (reason)" (F8_E5M2, mxfp8 or nvfp4
// for the other formats) or
// "keep     NAME SHAPE DTYPE [-> BF16] [as OUTPUT_NAME]  (reason)"; the output name only
// when --strip-prefix/--add-prefix change it, the BF16 rounding only with --keep-dtype bf16.
#include "cli/plan_printer.hpp"

#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/text_format.hpp"

namespace qfp8 {
namespace {

/// Plan lines size tensors in MiB, as the per-tensor progress lines do.
std::string mib_text(uint64_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

/// The detected family, "generic" when none matches, "ambiguous (a, b)" when several do.
std::string model_text(const ConversionPlan& plan) {
  if (!plan.detected_model.empty()) return plan.detected_model;
  if (plan.detection.matches.empty()) return "generic";
  std::string names;
  for (const auto& match : plan.detection.matches) {
    names += names.empty() ? "" : ", ";
    names += match.family->name;
  }
  return "ambiguous (" + names + ")";
}

/// What a quantized tensor becomes: the data dtype of the per-tensor FP8 formats, the
/// format's name for the block formats (their data alone would not say it).
std::string quantized_text(QuantFormat format) {
  if (has_block_scales(format)) return quant_format_name(format);
  return std::string(dtype_name(data_dtype(format)));
}

/// "formats: 700 nvfp4, 146 float8_e4m3fn" — only when a layer is not float8_e4m3fn.
std::string formats_line(const ConversionPlan& plan) {
  std::map<QuantFormat, std::size_t> counts;
  for (const auto& decision : plan.decisions) {
    if (decision.quantize) ++counts[decision.format];
  }
  if (counts.empty() || (counts.size() == 1 && counts.begin()->first == QuantFormat::Float8E4m3fn)) {
    return {};
  }
  std::string line = "formats:";
  for (const auto& [format, count] : counts) {
    line += (line.size() > 8 ? ", " : " ") + std::to_string(count) + " " + quant_format_name(format);
  }
  return line + "\n";
}

}  // namespace

void print_plan(std::ostream& out, const Header& input, const ConversionPlan& plan) {
  out << "model: " << model_text(plan) << ", preset: " << preset_name(plan.applied_preset) << "\n";
  if (!plan.layout_reason.empty()) out << "layout: " << plan.layout_reason << "\n";
  // Views of the input's names, and each line built whole before it is written: copied
  // keys and a stream call per field were most of a million-tensor dry run.
  std::unordered_map<std::string_view, const TensorInfo*> by_name;
  by_name.reserve(input.tensors.size());
  for (const auto& tensor : input.tensors) by_name.emplace(tensor.name, &tensor);
  std::unordered_set<std::string_view> rounded_to_bf16;  // input names
  for (const auto& output : plan.outputs) {
    if (output.source == OutputSource::ConvertedToBf16) rounded_to_bf16.insert(output.source_name);
  }
  std::string line;
  for (const auto& decision : plan.decisions) {
    const auto found = by_name.find(decision.name);
    if (found == by_name.end()) continue;
    const TensorInfo* tensor = found->second;
    line = decision.quantize ? "quantize " : "keep     ";
    // Names come from the file: printable() keeps each plan line one line (no raw ESC/CR/LF).
    line += printable(decision.name);
    line += ' ';
    line += shape_text(tensor->shape);
    line += ' ';
    line += dtype_name(tensor->dtype);
    if (decision.quantize) line += " -> " + quantized_text(decision.format);
    if (rounded_to_bf16.count(decision.name) != 0) line += " -> BF16";
    if (!decision.output_name.empty() && decision.output_name != decision.name) {
      line += " as " + printable(decision.output_name);
    }
    line += "  (" + printable(decision.reason) + ")\n";
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
  const uint64_t input_bytes = input.data_offset() + input.data_size;
  out << plan.decisions.size() << " tensors: " << plan.quantized_count << " quantized, "
      << plan.kept_count << " kept\n" << formats_line(plan);
  out << "output: " << plan.layout.tensors().size() << " tensors, "
      << plan.layout.file_size() << " bytes (" << mib_text(plan.layout.file_size())
      << "), input " << input_bytes << " bytes (" << mib_text(input_bytes) << ")\n";
}

}  // namespace qfp8
