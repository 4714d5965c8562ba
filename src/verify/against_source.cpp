// against_source.cpp — re-derivation of every quantized layer from its source with the
// shared scalar twins (absmax -> amax -> scale -> quantize, docs/format.md#numerics), byte
// comparison of every kept tensor, and the quality measurement, all streamed tensor by tensor.
#include "verify/against_source.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "verify/chunked_scan.hpp"
#include "verify/quality_report.hpp"
#include "verify/tensor_checks.hpp"

namespace qfp8::verify {
namespace {

constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();

struct LayerScan {
  uint64_t mismatches = 0;
  uint64_t first = kNone;  // first element whose code differs
  uint8_t first_expected = 0;
  uint8_t first_actual = 0;
  QualitySums sums;
};

uint32_t source_absmax(Dtype dtype, const uint8_t* source, uint64_t numel, unsigned threads) {
  const std::size_t element = dtype_size(dtype);
  const auto partials = scan_chunks<uint32_t>(numel, threads, [&](uint64_t begin, uint64_t end) {
    return absmax_magnitude_reference(dtype, source + begin * element, end - begin);
  });
  uint32_t amax = 0;
  for (uint32_t part : partials) amax = std::max(amax, part);
  return amax;
}

/// Compares the output codes with the reference quantization and measures the error of the
/// output as written (its own codes and scale).
LayerScan scan_layer(Dtype dtype, const uint8_t* source, const uint8_t* codes, uint64_t numel,
                     float expected_scale, float actual_scale, unsigned threads) {
  const std::size_t element = dtype_size(dtype);
  const auto partials = scan_chunks<LayerScan>(numel, threads, [&](uint64_t begin, uint64_t end) {
    LayerScan part;
    std::vector<uint8_t> expected(static_cast<std::size_t>(end - begin));
    quantize_reference(dtype, source + begin * element, end - begin, expected_scale,
                       expected.data());
    for (uint64_t i = begin; i < end; ++i) {
      const uint8_t code = codes[i];
      const uint8_t want = expected[static_cast<std::size_t>(i - begin)];
      if (code != want) {
        if (part.mismatches++ == 0) {
          part.first = i;
          part.first_expected = want;
          part.first_actual = code;
        }
      }
      part.sums.add(load_as_f32(dtype, source, i), code, actual_scale);
    }
    return part;
  });
  LayerScan total;
  for (const auto& part : partials) {
    if (part.mismatches != 0 && total.mismatches == 0) {
      total.first = part.first;
      total.first_expected = part.first_expected;
      total.first_actual = part.first_actual;
    }
    total.mismatches += part.mismatches;
    total.sums.merge(part.sums);
  }
  return total;
}

std::string hex_byte(uint8_t value) {
  static const char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[value >> 4] + kDigits[value & 0xF];
}

/// The source weight must exist, be F16/BF16/F32, have the output's shape and be finite.
const TensorInfo* source_weight(const SafetensorsFile& source, const std::string& layer,
                                const TensorInfo& weight, FindingList& findings) {
  const TensorInfo* src = source.find(weight.name);
  if (src == nullptr) {
    findings.err(FindingId::SourceWeightMissing, layer, "source has no '" + weight.name + "'");
    return nullptr;
  }
  if (!is_float_source(src->dtype) || src->shape != weight.shape) {
    findings.err(FindingId::SourceMismatch, layer,
                 "source '" + src->name + "' is " + std::string(dtype_name(src->dtype)) + " " +
                     shape_text(src->shape) + ", output is F8_E4M3 " + shape_text(weight.shape));
    return nullptr;
  }
  return src;
}

/// Returns the source bytes it read (0 when the layer has no usable source weight).
uint64_t check_layer(const SafetensorsFile& output, const SafetensorsFile& source,
                     const std::string& layer, const std::string& scale_suffix, unsigned threads,
                     FindingList& findings, std::vector<LayerQuality>& quality) {
  const TensorInfo& weight = *output.find(layer + ".weight");
  const TensorInfo* src = source_weight(source, layer, weight, findings);
  if (src == nullptr) return 0;
  source.prefetch(*src);
  output.prefetch(weight);
  const uint8_t* src_bytes = source.bytes(*src).data;
  const uint32_t magnitude = source_absmax(src->dtype, src_bytes, src->numel, threads);
  if (magnitude_is_nonfinite(src->dtype, magnitude)) {
    findings.err(FindingId::SourceNonFinite, layer, "source '" + src->name + "' holds Inf or NaN");
  } else {
    const float expected_scale = scale_from_amax(amax_from_magnitude(src->dtype, magnitude));
    const float actual_scale = read_f32_scalar(output, *output.find(layer + scale_suffix));
    if (float_bits(expected_scale) != float_bits(actual_scale)) {
      findings.err(FindingId::ScaleBitsDiffer, layer,
                   "'" + layer + scale_suffix + "' is " + float_text(actual_scale) +
                       ", re-derived from the source: " + float_text(expected_scale));
    }
    const LayerScan scan = scan_layer(src->dtype, src_bytes, output.bytes(weight).data, src->numel,
                                      expected_scale, actual_scale, threads);
    if (scan.mismatches != 0) {
      findings.err(FindingId::WeightBytesDiffer, layer,
                   std::to_string(scan.mismatches) +
                       " FP8 code(s) differ from the re-derived "
                       "ones; first at element " +
                       std::to_string(scan.first) + ": " + hex_byte(scan.first_actual) +
                       ", expected " + hex_byte(scan.first_expected));
    }
    quality.push_back(layer_quality(layer, src->numel, scan.sums));
  }
  source.release(*src);
  output.release(weight);
  return src->byte_size();
}

/// A tensor that is not part of any layer: the source's, unchanged.
void check_kept(const SafetensorsFile& output, const SafetensorsFile& source,
                const TensorInfo& tensor, FindingList& findings, std::size_t& kept) {
  const TensorInfo* src = source.find(tensor.name);
  if (src == nullptr) {
    findings.err(FindingId::TensorAdded, tensor.name,
                 "output tensor is not in the source and belongs to no quantized layer");
    return;
  }
  ++kept;
  if (src->dtype != tensor.dtype || src->shape != tensor.shape) {
    findings.err(FindingId::KeptTensorMismatch, tensor.name,
                 std::string("output is ") + std::string(dtype_name(tensor.dtype)) + " " +
                     shape_text(tensor.shape) + ", source is " +
                     std::string(dtype_name(src->dtype)) + " " + shape_text(src->shape));
    return;
  }
  const uint8_t* a = output.bytes(tensor).data;
  const uint8_t* b = source.bytes(*src).data;
  const uint64_t size = tensor.byte_size();
  if (size != 0 && std::memcmp(a, b, size) != 0) {
    uint64_t differing = 0;
    uint64_t first = kNone;
    for (uint64_t i = 0; i < size; ++i) {
      if (a[i] == b[i]) continue;
      if (differing++ == 0) first = i;
    }
    findings.err(FindingId::KeptTensorChanged, tensor.name,
                 std::to_string(differing) + " byte(s) differ from the source; first at byte " +
                     std::to_string(first));
  }
  output.release(tensor);
  source.release(*src);
}

void check_lost_and_metadata(const SafetensorsFile& output, const SafetensorsFile& source,
                             FindingList& findings) {
  std::size_t lost = 0;
  for (const auto& tensor : source.header().tensors) {
    if (output.find(tensor.name) != nullptr) continue;
    ++lost;
    findings.err(FindingId::TensorLost, tensor.name, "source tensor is missing from the output");
  }
  if (lost == 0) {
    findings.ok(FindingId::TensorLost, "",
        "all " + std::to_string(source.header().tensors.size()) + " source tensors present");
  }
  const auto& out_metadata = output.header().metadata;
  for (const auto& [key, value] : source.header().metadata) {
    const auto found = out_metadata.find(key);
    if (found == out_metadata.end() || found->second != value) {
      findings.err(FindingId::MetadataChanged, key,
                   "source __metadata__ entry is missing or changed");
    }
  }
}

}  // namespace

void check_against_source(const SafetensorsFile& output, const SafetensorsFile& source,
                          const Fp8Layout& inventory, unsigned threads, FindingList& findings,
                          std::vector<LayerQuality>& quality, ProgressMeter* progress) {
  std::vector<const TensorInfo*> kept_tensors;
  for (const auto& tensor : output.header().tensors) {
    if (inventory.layer_tensors.count(tensor.name) == 0) kept_tensors.push_back(&tensor);
  }
  // The display's totals: every layer and kept tensor; the source's data is what is read.
  if (progress != nullptr) {
    progress->set_totals(inventory.usable.size() + kept_tensors.size(),
                         source.header().data_size);
  }
  std::size_t errors_before = findings.error_count();
  for (const auto& layer : inventory.usable) {
    const uint64_t read =
        check_layer(output, source, layer, inventory.scale_suffix, threads, findings, quality);
    if (progress != nullptr) {
      progress->add_bytes(read);
      progress->tensor_done();
    }
  }
  if (findings.error_count() == errors_before) {
    findings.ok(FindingId::Rederived, "",
                std::to_string(inventory.usable.size()) +
                    " layer(s) re-derived from the source: FP8 codes and scales identical");
  }
  errors_before = findings.error_count();
  std::size_t kept = 0;
  for (const TensorInfo* tensor : kept_tensors) {
    check_kept(output, source, *tensor, findings, kept);
    if (progress != nullptr) {
      progress->add_bytes(tensor->byte_size());
      progress->tensor_done();
    }
  }
  if (findings.error_count() == errors_before) {
    findings.ok(FindingId::KeptTensors, "",
                std::to_string(kept) + " kept tensor(s) byte-identical to the source");
  }
  check_lost_and_metadata(output, source, findings);
  sort_worst_first(quality);
}

}  // namespace qfp8::verify
