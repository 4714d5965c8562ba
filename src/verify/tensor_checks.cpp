// tensor_checks.cpp — single-tensor rules (docs/format.md#verification) shared by both layout
// checkers.
#include "verify/tensor_checks.hpp"

#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "core/fp8_e4m3fn.hpp"
#include "core/text_format.hpp"

namespace qfp8::verify {

std::string float_text(float value) {
  char text[64];
  std::snprintf(text, sizeof text, "0x%08" PRIx32 " (%.9g)", float_bits(value),
                static_cast<double>(value));
  return text;
}

namespace {

/// The four scale rules, one id each for weight scales and input scales.
struct ScaleIds {
  FindingId dtype, shape, not_finite, not_positive;
};

ScaleIds scale_ids(ScaleKind kind) {
  if (kind == ScaleKind::Weight) {
    return {FindingId::ScaleDtype, FindingId::ScaleShape, FindingId::ScaleNotFinite,
            FindingId::ScaleNotPositive};
  }
  return {FindingId::InputScaleDtype, FindingId::InputScaleShape, FindingId::InputScaleNotFinite,
          FindingId::InputScaleNotPositive};
}

}  // namespace

bool check_scale(const SafetensorsFile& file, const TensorInfo& scale, ScaleKind kind,
                 const std::string& layer, FindingList& findings) {
  const ScaleIds ids = scale_ids(kind);
  if (scale.dtype != Dtype::F32) {
    findings.err(
        ids.dtype, layer,
        "'" + scale.name + "' is " + std::string(dtype_name(scale.dtype)) + ", must be F32");
    return false;
  }
  if (scale.numel != 1) {
    findings.err(ids.shape, layer,
                 "'" + scale.name + "' has shape " + shape_text(scale.shape) +
                     ", must hold one element (0-d [] recommended)");
    return false;
  }
  if (!scale.shape.empty()) {
    findings.warn(ids.shape, layer,
                  "'" + scale.name + "' has shape " + shape_text(scale.shape) +
                      "; 0-d [] is recommended");
  }
  const float value = read_f32_scalar(file, scale);
  if (!std::isfinite(value)) {
    findings.err(ids.not_finite, layer,
                 "'" + scale.name + "' is " + float_text(value) + ", must be finite");
    return false;
  }
  if (!(value > 0.0f)) {
    findings.err(ids.not_positive, layer,
                 "'" + scale.name + "' is " + float_text(value) + ", must be > 0");
    return false;
  }
  return true;
}

bool check_weight(const TensorInfo& weight, QuantFormat format, const std::string& layer,
                  FindingList& findings) {
  bool ok = true;
  const Dtype dtype = data_dtype(format);
  if (weight.dtype != dtype) {
    findings.err(FindingId::WeightDtype, layer,
                 "'" + weight.name + "' is " + std::string(dtype_name(weight.dtype)) +
                     ", must be " + std::string(dtype_name(dtype)) + " (" +
                     quant_format_name(format) + ")");
    ok = false;
  }
  if (weight.shape.size() != 2) {
    findings.err(FindingId::WeightShape, layer,
        "'" + weight.name + "' has shape " + shape_text(weight.shape) + ", must be 2-D [out, in]");
    return false;
  }
  const std::array<uint64_t, 2> matrix = fp8_layout::weight_matrix_shape(format, weight);
  const std::string problem = shape_problem(format, matrix[0], matrix[1]);
  if (!problem.empty()) {
    const std::string holds =
        format == QuantFormat::Nvfp4
            ? " (packed pairs of a " + shape_text({matrix[0], matrix[1]}) + " weight)"
            : std::string();
    findings.err(FindingId::WeightShape, layer,
                 "'" + weight.name + "' has shape " + shape_text(weight.shape) + holds + ": " +
                     problem);
    ok = false;
  }
  return ok;
}

}  // namespace qfp8::verify
