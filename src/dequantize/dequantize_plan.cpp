// dequantize_plan.cpp — which input tensors are quantized layers (found exactly as
// `verify` finds them, in either layout), which are their companions, and the output layout.
#include <map>
#include <set>

#include "core/error.hpp"
#include "dequantize/dequantize.hpp"
#include "plan/comfy_metadata.hpp"
#include "verify/chunked_scan.hpp"
#include "verify/format_checker.hpp"
#include "verify/tensor_checks.hpp"

namespace qfp8 {
namespace {

/// The input must pass the format rules: dequantizing a half-valid file would silently
/// drop or mis-scale weights.
void require_valid(const std::string& path, verify::FindingList& findings) {
  for (const auto& finding : findings.items()) {
    if (finding.severity != verify::Severity::Err) continue;
    throw Error(ErrorCode::VerificationFailed, path, finding.subject,
                "cannot dequantize: input is not a valid FP8 scaled checkpoint: [" + finding.id +
                    "] " + finding.message);
  }
}

/// Input metadata minus `_quantization_metadata`; written as an empty `__metadata__` only
/// when the input had one that was already empty, so both layouts give the same header.
SafetensorsLayout output_layout(const Header& header, std::vector<PlannedTensor> planned) {
  std::map<std::string, std::string> metadata = header.metadata;
  const bool erased = metadata.erase(kQuantizationMetadataKey) > 0;
  const bool always = header.has_metadata && !(erased && metadata.empty());
  return SafetensorsLayout(std::move(planned), std::move(metadata), always);
}

}  // namespace

DequantizePlan make_dequantize_plan(const SafetensorsFile& input, unsigned threads) {
  verify::FindingList findings;
  const verify::LayerInventory inventory =
      verify::check_format(input, verify::resolve_threads(threads), findings);
  require_valid(input.path(), findings);

  std::map<std::string, float> scale_of;  // weight name -> its scale
  for (const auto& layer : inventory.usable) {
    const TensorInfo* scale = input.find(layer + inventory.scale_suffix);
    scale_of[layer + kWeightSuffix] = verify::read_f32_scalar(input, *scale);
  }
  std::vector<PlannedTensor> planned;
  std::vector<DequantizeOutput> outputs;
  std::size_t dropped = 0;
  for (const auto& tensor : input.header().tensors) {
    const auto scale = scale_of.find(tensor.name);
    if (scale != scale_of.end()) {
      planned.push_back({tensor.name, Dtype::BF16, tensor.shape});
      outputs.push_back({tensor.name, true, scale->second});
    } else if (inventory.layer_tensors.count(tensor.name) != 0) {
      ++dropped;  // scale, input scale, comfy_quant or the scaled_fp8 marker
    } else {
      planned.push_back({tensor.name, tensor.dtype, tensor.shape});
      outputs.push_back({tensor.name, false, 1.0f});
    }
  }
  DequantizePlan plan(output_layout(input.header(), std::move(planned)));
  std::map<std::string, const DequantizeOutput*> by_name;
  for (const auto& output : outputs) by_name[output.name] = &output;
  for (const auto& tensor : plan.layout.tensors()) plan.outputs.push_back(*by_name.at(tensor.name));
  plan.legacy = inventory.legacy;
  plan.layers = scale_of.size();
  plan.copied = outputs.size() - scale_of.size();
  plan.dropped = dropped;
  return plan;
}

}  // namespace qfp8
