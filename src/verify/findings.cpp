// findings.cpp — the table of finding ids (printed name and meaning), counting and looking
// up findings.
#include "verify/findings.hpp"

#include <algorithm>

namespace qfp8::verify {
namespace {

using F = FindingId;

// The printed names are part of the output contract (text and --json reports, scripts
// grep them): never rename one. docs/usage.md lists the same table.
constexpr std::array<FindingInfo, kFindingIdCount> kTable = {{
    {F::Container, "Container", "OK: the file opens as a valid safetensors container"},
    {F::ContainerInvalid, "ContainerInvalid",
     "ERR: the file is no valid safetensors container; printed under the reader's rule name "
     "(e.g. InvalidOffset, MetadataIncompleteBuffer), and no other check runs"},
    {F::QuantizationMetadata, "QuantizationMetadata",
     "OK: `_quantization_metadata` parses and declares N layers"},
    {F::InvalidQuantizationMetadata, "InvalidQuantizationMetadata",
     "ERR: `_quantization_metadata` is not JSON, or not an object with an object `layers`"},
    {F::FormatVersion, "FormatVersion",
     "WARN: `_quantization_metadata` has no `format_version` \"1.0\""},
    {F::MissingQuantizationMetadata, "MissingQuantizationMetadata",
     "ERR: no `_quantization_metadata` and no `.comfy_quant` tensor (ComfyUI would use every "
     "FP8 weight unscaled); WARN: layers declared only by `.comfy_quant` tensors"},
    {F::InvalidLayerConfig, "InvalidLayerConfig",
     "ERR: a layer's config is not an object whose `format` is one of \"float8_e4m3fn\", "
     "\"float8_e5m2\", \"mxfp8\", \"nvfp4\" (the message lists them); such a layer's "
     "tensors are not checked further"},
    {F::ComfyQuantInvalid, "ComfyQuantInvalid",
     "ERR: an `L.comfy_quant` tensor is not U8 1-D, not UTF-8, or not JSON"},
    {F::ComfyQuantMismatch, "ComfyQuantMismatch",
     "ERR: an `L.comfy_quant` tensor holds another config than the metadata declares"},
    {F::ComfyQuantNotCanonical, "ComfyQuantNotCanonical",
     "WARN: an `L.comfy_quant` tensor holds the right config, not written as json.dumps does"},
    {F::PrefixMismatch, "PrefixMismatch",
     "ERR: a declared layer's tensors exist only with `model.diffusion_model.` added or removed"},
    {F::MissingWeight, "MissingWeight", "ERR: a declared layer has no `L.weight`"},
    {F::MissingWeightScale, "MissingWeightScale", "ERR: a declared layer has no `L.weight_scale`"},
    {F::MissingWeightScale2, "MissingWeightScale2",
     "ERR: an nvfp4 layer has no `L.weight_scale_2`"},
    {F::UndeclaredFp8Weight, "UndeclaredFp8Weight",
     "ERR: an F8_E4M3 or F8_E5M2 `.weight` no layer declares (ComfyUI would use it unscaled)"},
    {F::StrayCompanion, "StrayCompanion",
     "ERR: a scale or `.comfy_quant` tensor that belongs to no declared (legacy: FP8) layer, "
     "or a `.weight_scale_2` of a layer whose format has none"},
    {F::Layers, "Layers", "OK: every layer's weight, scale and marker passed"},
    {F::LegacyLayout, "LegacyLayout", "OK: the legacy `scaled_fp8` marker is valid"},
    {F::LegacyMarker, "LegacyMarker",
     "ERR: the `scaled_fp8` marker is not F8_E4M3 of shape [0] or [2]"},
    {F::LegacyMixed, "LegacyMixed",
     "ERR: a legacy file also carries `_quantization_metadata`, `.weight_scale`, "
     "`.weight_scale_2`, `.input_scale` or `.comfy_quant`"},
    {F::MissingScaleWeight, "MissingScaleWeight",
     "ERR: a legacy FP8 weight has no `L.scale_weight`"},
    {F::WeightDtype, "WeightDtype",
     "ERR: a layer's weight is not of its format's dtype (F8_E4M3; F8_E5M2 for float8_e5m2; "
     "U8 for nvfp4)"},
    {F::WeightShape, "WeightShape",
     "ERR: a layer's weight is not 2-D, or (mxfp8, nvfp4) its rows or columns are not a "
     "multiple of the block size"},
    {F::ScaleDtype, "ScaleDtype",
     "ERR: a per-tensor weight scale (`weight_scale`; nvfp4: `weight_scale_2`) is not F32"},
    {F::ScaleShape, "ScaleShape",
     "ERR: a weight scale holds not exactly one element; WARN: its one element has "
     "shape [1] (or [1, 1]), not []"},
    {F::ScaleNotFinite, "ScaleNotFinite", "ERR: a weight scale is Inf or NaN"},
    {F::ScaleNotPositive, "ScaleNotPositive", "ERR: a weight scale is 0 or negative"},
    {F::BlockScaleDtype, "BlockScaleDtype",
     "ERR: the block scales (`weight_scale`) are not F8_E8M0 (mxfp8) or F8_E4M3 (nvfp4)"},
    {F::BlockScaleShape, "BlockScaleShape",
     "ERR: the block scales' shape is not [rows padded to 128, blocks per row padded to 4]"},
    {F::BlockScaleNegative, "BlockScaleNegative",
     "ERR: an nvfp4 block scale code has its sign bit set (count, first block)"},
    {F::BlockScalePadding, "BlockScalePadding",
     "ERR: the padding of the blocked scales (rows or blocks past the weight's) is not all "
     "zero codes (count, first byte)"},
    {F::InputScaleDtype, "InputScaleDtype", "ERR: an input scale is not F32"},
    {F::InputScaleShape, "InputScaleShape",
     "ERR: an input scale holds not exactly one element; WARN: its one element has "
     "shape [1] (or [1, 1]), not []"},
    {F::InputScaleNotFinite, "InputScaleNotFinite", "ERR: an input scale is Inf or NaN"},
    {F::InputScaleNotPositive, "InputScaleNotPositive", "ERR: an input scale is 0 or negative"},
    {F::NanCode, "NanCode",
     "ERR: an FP8 tensor holds codes that are not finite: NaN in F8_E4M3 (0x7F/0xFF) and "
     "F8_E8M0 (0xFF), Inf or NaN in F8_E5M2 (0x7C-0x7F/0xFC-0xFF) (count, first index); "
     "OK: none"},
    {F::Rederived, "Rederived",
     "OK: every layer re-derived from the source gave identical codes and scales"},
    {F::SourceWeightMissing, "SourceWeightMissing", "ERR: the source has no weight of that name"},
    {F::SourceMismatch, "SourceMismatch",
     "ERR: the source weight is not F16/BF16/F32, or its shape differs from the output's"},
    {F::SourceNonFinite, "SourceNonFinite",
     "ERR: the source weight holds Inf or NaN (no re-derivation possible)"},
    {F::ScaleBitsDiffer, "ScaleBitsDiffer",
     "ERR: a per-tensor scale's bits (`weight_scale`; nvfp4: `weight_scale_2`) differ from "
     "the one re-derived from the source"},
    {F::BlockScalesDiffer, "BlockScalesDiffer",
     "ERR: block scale codes differ from the re-derived ones (count, first row and block)"},
    {F::WeightBytesDiffer, "WeightBytesDiffer",
     "ERR: the weight's codes (FP8, or nvfp4's packed bytes) differ from the re-derived ones "
     "(count, first element or byte)"},
    {F::KeptTensors, "KeptTensors",
     "OK: every tensor outside the layers is byte-identical to the source"},
    {F::TensorAdded, "TensorAdded",
     "ERR: an output tensor neither in the source nor a layer's companion"},
    {F::KeptTensorMismatch, "KeptTensorMismatch",
     "ERR: a kept tensor's dtype or shape differs from the source's"},
    {F::KeptTensorChanged, "KeptTensorChanged",
     "ERR: a kept tensor's bytes differ from the source's (count, first byte)"},
    {F::TensorLost, "TensorLost", "ERR: a source tensor is missing from the output; OK: none is"},
    {F::MetadataChanged, "MetadataChanged",
     "ERR: a source `__metadata__` entry is missing from the output or changed"},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].id) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order(), "finding table must list every FindingId in order");
static_assert(static_cast<std::size_t>(FindingId::MetadataChanged) + 1 == kFindingIdCount,
              "kFindingIdCount must count every FindingId");

}  // namespace

const std::array<FindingInfo, kFindingIdCount>& finding_table() noexcept { return kTable; }

const char* finding_name(FindingId id) noexcept {
  return kTable[static_cast<std::size_t>(id)].name;
}

std::string Finding::name() const {
  if (id == FindingId::ContainerInvalid && container_error) {
    return error_code_name(*container_error);
  }
  return finding_name(id);
}

const char* severity_name(Severity severity) noexcept {
  switch (severity) {
    case Severity::Ok:
      return "OK";
    case Severity::Warn:
      return "WARN";
    case Severity::Err:
      return "ERR";
  }
  return "ERR";
}

std::size_t VerifyResult::count(Severity severity) const {
  return static_cast<std::size_t>(
      std::count_if(findings.begin(), findings.end(),
                    [severity](const Finding& f) { return f.severity == severity; }));
}

std::vector<const Finding*> VerifyResult::with_id(FindingId id) const {
  std::vector<const Finding*> out;
  for (const auto& finding : findings) {
    if (finding.id == id) out.push_back(&finding);
  }
  return out;
}

std::vector<const Finding*> VerifyResult::with_id(const std::string& name) const {
  std::vector<const Finding*> out;
  for (const auto& finding : findings) {
    if (finding.name() == name) out.push_back(&finding);
  }
  return out;
}

void FindingList::ok(FindingId id, std::string subject, std::string message) {
  findings_.push_back({id, Severity::Ok, std::move(subject), std::move(message), {}});
}

void FindingList::warn(FindingId id, std::string subject, std::string message) {
  findings_.push_back({id, Severity::Warn, std::move(subject), std::move(message), {}});
}

void FindingList::err(FindingId id, std::string subject, std::string message) {
  findings_.push_back({id, Severity::Err, std::move(subject), std::move(message), {}});
}

std::size_t FindingList::error_count() const {
  return static_cast<std::size_t>(
      std::count_if(findings_.begin(), findings_.end(),
                    [](const Finding& f) { return f.severity == Severity::Err; }));
}

}  // namespace qfp8::verify
