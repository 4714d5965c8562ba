// tensor_checks.cpp — single-tensor rules (docs/format.md#verification) shared by both layout
// checkers.
#include "verify/tensor_checks.hpp"

#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/fp8_e4m3fn.hpp"
#include "core/fp8_e5m2.hpp"
#include "core/text_format.hpp"
#include "verify/chunked_scan.hpp"

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

namespace {

// E8M0 has no sign and no zero: 2^(code - 127) for codes 0..254, and 0xFF is its one NaN
// (OCP Microscaling Formats v1.0).
constexpr uint8_t kE8M0NanCode = 0xFF;

/// The codes of an FP8 dtype that are not finite, for the scan and its message; none for
/// any other dtype.
struct NonFiniteCodes {
  bool (*is_nonfinite)(uint8_t code) = nullptr;
  const char* what = "";  // "NaN code(s) (0x7F/0xFF)"
};

NonFiniteCodes nonfinite_codes(Dtype dtype) {
  switch (dtype) {
    case Dtype::F8_E4M3:
      // 0x7F / 0xFF are the only NaN codes of E4M3FN: magnitude bits all ones.
      return {[](uint8_t code) { return (code & 0x7Fu) == kE4M3NanCode; },
              "NaN code(s) (0x7F/0xFF)"};
    case Dtype::F8_E5M2:
      return {[](uint8_t code) { return e5m2_is_nonfinite(code); },
              "Inf/NaN code(s) (0x7C-0x7F/0xFC-0xFF)"};
    case Dtype::F8_E8M0:
      return {[](uint8_t code) { return code == kE8M0NanCode; }, "NaN code(s) (0xFF)"};
    default:
      return {};
  }
}

struct NanCount {
  uint64_t count = 0;
  uint64_t first = std::numeric_limits<uint64_t>::max();
};

NanCount count_nan_codes(const uint8_t* codes, uint64_t numel, bool (*is_nonfinite)(uint8_t),
                         unsigned threads) {
  // The predicate tabulated over the 256 codes: a load per byte instead of a call, and a
  // count without a branch; the first index is looked for only in a chunk that has one.
  std::array<uint8_t, 256> nonfinite{};
  for (uint32_t code = 0; code < 256; ++code) {
    nonfinite[code] = is_nonfinite(static_cast<uint8_t>(code)) ? 1 : 0;
  }
  const auto partials =
      scan_chunks<NanCount>(numel, threads, [codes, &nonfinite](uint64_t begin, uint64_t end) {
        NanCount part;
        for (uint64_t i = begin; i < end; ++i) part.count += nonfinite[codes[i]];
        if (part.count != 0) {
          part.first = begin;
          while (nonfinite[codes[part.first]] == 0) ++part.first;
        }
        return part;
      });
  NanCount total;
  for (const auto& part : partials) {
    if (part.count != 0 && total.count == 0) total.first = part.first;
    total.count += part.count;
  }
  return total;
}

}  // namespace

void check_nan_codes(const SafetensorsFile& file, const std::string& skip_name, unsigned threads,
                     FindingList& findings) {
  std::size_t scanned = 0;
  uint64_t bytes = 0;
  std::size_t bad = 0;
  for (const auto& tensor : file.header().tensors) {
    const NonFiniteCodes codes = nonfinite_codes(tensor.dtype);
    if (codes.is_nonfinite == nullptr || tensor.name == skip_name) continue;
    file.prefetch(tensor);
    const NanCount nan =
        count_nan_codes(file.bytes(tensor).data, tensor.byte_size(), codes.is_nonfinite, threads);
    file.release(tensor);
    ++scanned;
    bytes += tensor.byte_size();
    if (nan.count == 0) continue;
    ++bad;
    findings.err(FindingId::NanCode, tensor.name,
                 std::to_string(nan.count) + " " + codes.what + ", first at element " +
                     std::to_string(nan.first));
  }
  if (bad == 0) {
    findings.ok(FindingId::NanCode, "",
                "no NaN codes in " + std::to_string(scanned) + " FP8 tensor(s) (" +
                    std::to_string(bytes) + " bytes scanned)");
  }
}

}  // namespace qfp8::verify
