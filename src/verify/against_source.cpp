// against_source.cpp — re-derivation of every quantized layer from its source with the
// shared numerics (absmax -> amax -> per-tensor scale -> codes, docs/format.md#numerics and
// #formats; the element loops are rederive_*.cpp), byte comparison of every kept tensor, and
// the quality measurement, all streamed tensor by tensor.
#include "verify/against_source.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "plan/comfy_metadata.hpp"
#include "safetensors/read_ahead.hpp"
#include "verify/quality_report.hpp"
#include "verify/rederive.hpp"
#include "verify/tensor_checks.hpp"

namespace qfp8::verify {
namespace {

constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
// How far the disk reads ahead of the checks. Page cache, not this process's memory (the
// read-ahead drops what it maps); enough to keep the disk busy while the largest layers
// (113 MB of BF16 in Qwen-Image) are compared.
constexpr uint64_t kReadAheadWindow = uint64_t{256} << 20;
const std::string kScale2 = kWeightScale2Suffix;
// A kept tensor is compared a slice at a time, each dropped from both mappings once compared:
// a text encoder's 1 GB embedding is never resident whole.
constexpr uint64_t kKeptSlice = uint64_t{16} << 20;
// A layer's scan drops both weights' pages every 8 Mi elements (16 MiB of BF16, 8 MiB of FP8
// codes): one slab of a layer is resident, however large the layer.
constexpr uint64_t kSlabElements = uint64_t{8} << 20;

std::string hex_byte(uint8_t value) {
  static const char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[value >> 4] + kDigits[value & 0xF];
}

/// The source weight must exist, be F16/BF16/F32, have the shape of the weight the output
/// holds (`matrix`: nvfp4's packed columns counted twice) and be finite.
const TensorInfo* source_weight(const SafetensorsFile& source, const UsableLayer& layer,
                                const TensorInfo& weight, const std::array<uint64_t, 2>& matrix,
                                FindingList& findings) {
  const TensorInfo* src = source.find(weight.name);
  if (src == nullptr) {
    findings.err(FindingId::SourceWeightMissing, layer.name,
                 "source has no '" + weight.name + "'");
    return nullptr;
  }
  const std::vector<uint64_t> held = {matrix[0], matrix[1]};
  if (!is_float_source(src->dtype) || src->shape != held) {
    const std::string packed =
        layer.format == QuantFormat::Nvfp4
            ? ", the packed pairs of an nvfp4 " + shape_text(held) + " weight"
            : std::string();
    findings.err(FindingId::SourceMismatch, layer.name,
                 "source '" + src->name + "' is " + std::string(dtype_name(src->dtype)) + " " +
                     shape_text(src->shape) + ", output is " +
                     std::string(dtype_name(weight.dtype)) + " " + shape_text(weight.shape) +
                     packed);
    return nullptr;
  }
  return src;
}

/// ScaleBitsDiffer when the output's per-tensor scale `name` is not the re-derived one.
void compare_tensor_scale(const std::string& layer, const std::string& name, float actual,
                          float expected, FindingList& findings) {
  if (float_bits(expected) == float_bits(actual)) return;
  findings.err(FindingId::ScaleBitsDiffer, layer,
               "'" + name + "' is " + float_text(actual) + ", re-derived from the source: " +
                   float_text(expected));
}

void report_mismatches(const UsableLayer& layer, uint64_t cols, const LayerScan& scan,
                       FindingList& findings) {
  if (scan.block_scales.count != 0) {
    const uint64_t blocks = cols / block_size(layer.format);
    const CodeMismatch& m = scan.block_scales;
    findings.err(FindingId::BlockScalesDiffer, layer.name,
                 std::to_string(m.count) +
                     " block scale code(s) differ from the re-derived ones; first at row " +
                     std::to_string(m.first / blocks) + ", block " +
                     std::to_string(m.first % blocks) + ": " + hex_byte(m.actual) +
                     ", expected " + hex_byte(m.expected));
  }
  const CodeMismatch& m = scan.data;
  if (m.count == 0) return;
  const bool packed = layer.format == QuantFormat::Nvfp4;
  const uint64_t per_row = packed ? cols / 2 : cols;
  const uint64_t column = (m.first % per_row) * (packed ? 2 : 1);
  const std::string where =
      packed ? "byte " + std::to_string(m.first) + " (row " + std::to_string(m.first / per_row) +
                   ", columns " + std::to_string(column) + " and " + std::to_string(column + 1) +
                   ")"
             : "element " + std::to_string(m.first);
  findings.err(FindingId::WeightBytesDiffer, layer.name,
               std::to_string(m.count) + (packed ? " packed byte(s)" : " FP8 code(s)") +
                   " differ from the re-derived ones; first at " + where + ": " +
                   hex_byte(m.actual) + ", expected " + hex_byte(m.expected));
}

/// The layer's per-tensor scale: weight_scale of the FP8 formats, nvfp4's weight_scale_2
/// (mxfp8 has none).
std::string tensor_scale_name(const UsableLayer& layer, const std::string& scale_suffix) {
  return layer.name + (layer.format == QuantFormat::Nvfp4 ? kScale2 : scale_suffix);
}

/// The per-tensor scale the output holds for the layer; 0 for mxfp8.
float written_tensor_scale(const SafetensorsFile& output, const UsableLayer& layer,
                           const std::string& scale_suffix) {
  if (layer.format == QuantFormat::Mxfp8) return 0.0f;
  return read_f32_scalar(output, *output.find(tensor_scale_name(layer, scale_suffix)));
}

/// One pass over the layer: its codes re-derived from the source with the per-tensor scale
/// `derive_scale` and compared with the output's, the quality from the output's own
/// `written_scale`, and the source's absmax. The pages of both weights are dropped slab by
/// slab as the scan passes them: however large the layer, one slab of it is resident.
LayerScan scan_layer(const SafetensorsFile& output, const SafetensorsFile& source,
                     const UsableLayer& layer, const TensorInfo& src, const uint8_t* src_bytes,
                     const TensorInfo& weight, const std::array<uint64_t, 2>& matrix,
                     float derive_scale, float written_scale, unsigned threads) {
  const uint8_t* data = output.bytes(weight).data;
  // The scans' unit is an element (per-tensor formats) or a block: its source bytes, and its
  // data bytes (a code an element; nvfp4 packs two elements a byte).
  const bool blocks = has_block_scales(layer.format);
  const uint64_t unit_elements = blocks ? block_size(layer.format) : 1;
  const uint64_t unit_source_bytes = unit_elements * dtype_size(src.dtype);
  const uint64_t unit_data_bytes =
      layer.format == QuantFormat::Nvfp4 ? unit_elements / 2 : unit_elements;
  const auto release_units = [&](uint64_t begin, uint64_t end) {
    source.release_part(src, begin * unit_source_bytes, (end - begin) * unit_source_bytes);
    output.release_part(weight, begin * unit_data_bytes, (end - begin) * unit_data_bytes);
  };
  const Slabs drop{kSlabElements / (kScanChunk * unit_elements), release_units};
  if (!blocks) {
    return scan_per_tensor_layer(layer.format, src.dtype, src_bytes, data, src.numel,
                                 derive_scale, written_scale, threads, drop);
  }
  const TensorInfo& scales = *output.find(layer.name + kWeightScaleSuffix);
  output.prefetch(scales);
  const LayerScan scan =
      scan_block_layer(layer.format, src.dtype, src_bytes, data, output.bytes(scales).data,
                       matrix[0], matrix[1], derive_scale, written_scale, threads, drop);
  output.release(scales);
  return scan;
}

/// What re-deriving one layer read and counted.
struct RederivedLayer {
  uint64_t source_bytes = 0;  // 0 when the layer has no usable source weight
  // The weight's non-finite codes, where the scan read every code for them (per-tensor formats).
  std::optional<NonfiniteCount> nonfinite;
};

/// Re-derives the layer whose output weight is `weight`.
///
/// The codes depend on the source's absmax only through the per-tensor scale, so the layer
/// is scanned once with the scale the output holds, the absmax taken in the same pass: when
/// the scale re-derived from it is that one (a correct file), the scan is the re-derivation.
/// Only a wrong written scale costs a second pass.
RederivedLayer rederive_layer(const SafetensorsFile& output, const SafetensorsFile& source,
                        const UsableLayer& layer, const TensorInfo& weight,
                        const std::string& scale_suffix, unsigned threads, FindingList& findings,
                        std::vector<LayerQuality>& quality) {
  const std::array<uint64_t, 2> matrix = fp8_layout::weight_matrix_shape(layer.format, weight);
  const TensorInfo* src = source_weight(source, layer, weight, matrix, findings);
  if (src == nullptr) return {};
  const uint8_t* src_bytes = source.bytes(*src).data;
  // A usable layer's scale passed check_scale (finite and positive): safe to divide by.
  const float written = written_tensor_scale(output, layer, scale_suffix);
  LayerScan scan = scan_layer(output, source, layer, *src, src_bytes, weight, matrix, written,
                              written, threads);
  const uint32_t magnitude = scan.magnitude;
  if (magnitude_is_nonfinite(src->dtype, magnitude)) {
    findings.err(FindingId::SourceNonFinite, layer.name,
                 "source '" + src->name + "' holds Inf or NaN");
  } else {
    const float expected = tensor_scale_reference(layer.format, src->dtype, magnitude);
    if (layer.format != QuantFormat::Mxfp8) {
      compare_tensor_scale(layer.name, tensor_scale_name(layer, scale_suffix), written, expected,
                           findings);
    }
    if (float_bits(expected) != float_bits(written)) {
      scan = scan_layer(output, source, layer, *src, src_bytes, weight, matrix, expected,
                        written, threads);
    }
    report_mismatches(layer, matrix[1], scan, findings);
    quality.push_back(layer_quality(layer.name, src->numel, scan.sums));
  }
  source.release(*src);
  RederivedLayer done;
  done.source_bytes = src->byte_size();
  if (!has_block_scales(layer.format)) done.nonfinite = scan.nonfinite;
  return done;
}

/// The layer re-derived, and its weight's non-finite codes counted into `nan_counts`: by the
/// re-derivation's own pass where it counts them, else while the weight's pages are still
/// mapped. Returns the source bytes read.
uint64_t check_layer(const SafetensorsFile& output, const SafetensorsFile& source,
                     const UsableLayer& layer, const std::string& scale_suffix, unsigned threads,
                     FindingList& findings, std::vector<LayerQuality>& quality,
                     NonfiniteCounts& nan_counts) {
  const TensorInfo& weight = *output.find(layer.name + kWeightSuffix);
  const RederivedLayer done = rederive_layer(output, source, layer, weight, scale_suffix,
                                             threads, findings, quality);
  if (has_nonfinite_codes(weight.dtype)) {
    nan_counts[weight.name] = done.nonfinite.has_value()
                                  ? *done.nonfinite
                                  : count_nonfinite_codes(output, weight, threads);
  }
  output.release(weight);
  return done.source_bytes;
}

/// The tensors the checks read, in their order, each unit (a layer, a kept tensor) its
/// output tensor and the source's of the same name; `unit_ends[i]` counts the spans of units
/// 0..i.
struct ReadOrder {
  std::vector<ReadAhead::Span> spans;
  std::vector<std::size_t> unit_ends;

  void add(const SafetensorsFile& output, const SafetensorsFile& source,
           const std::string& name) {
    if (const TensorInfo* tensor = output.find(name)) spans.push_back({&output, tensor});
    if (const TensorInfo* tensor = source.find(name)) spans.push_back({&source, tensor});
    unit_ends.push_back(spans.size());
  }
};

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
  uint64_t differing = 0;
  uint64_t first = kNone;
  for (uint64_t offset = 0; offset < size; offset += kKeptSlice) {
    const uint64_t length = std::min(kKeptSlice, size - offset);
    if (std::memcmp(a + offset, b + offset, length) != 0) {
      for (uint64_t i = offset; i < offset + length; ++i) {
        if (a[i] == b[i]) continue;
        if (differing++ == 0) first = i;
      }
    }
    output.release_part(tensor, offset, length);
    source.release_part(*src, offset, length);
  }
  if (differing != 0) {
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
                          std::vector<LayerQuality>& quality, NonfiniteCounts& nan_counts,
                          ProgressMeter* progress) {
  std::vector<const TensorInfo*> kept_tensors;
  for (const auto& tensor : output.header().tensors) {
    if (inventory.layer_tensors.count(tensor.name) == 0) kept_tensors.push_back(&tensor);
  }
  // The display's totals: every layer and kept tensor; the source's data is what is read.
  if (progress != nullptr) {
    progress->set_totals(inventory.usable.size() + kept_tensors.size(),
                         source.header().data_size);
  }
  // The disk reads ahead of the checks while they compute.
  ReadOrder order;
  for (const UsableLayer& layer : inventory.usable) {
    order.add(output, source, layer.name + kWeightSuffix);
  }
  for (const TensorInfo* tensor : kept_tensors) order.add(output, source, tensor->name);
  ReadAhead read_ahead(order.spans, kReadAheadWindow);
  std::size_t unit = 0;
  std::size_t errors_before = findings.error_count();
  for (const UsableLayer& layer : inventory.usable) {
    const uint64_t read =
        check_layer(output, source, layer, inventory.scale_suffix, threads, findings, quality,
                    nan_counts);
    read_ahead.done(order.unit_ends[unit++]);
    if (progress != nullptr) {
      progress->add_bytes(read);
      progress->tensor_done();
    }
  }
  if (findings.error_count() == errors_before) {
    findings.ok(FindingId::Rederived, "",
                std::to_string(inventory.usable.size()) +
                    " layer(s) re-derived from the source: codes and scales identical");
  }
  errors_before = findings.error_count();
  std::size_t kept = 0;
  for (const TensorInfo* tensor : kept_tensors) {
    check_kept(output, source, *tensor, findings, kept);
    read_ahead.done(order.unit_ends[unit++]);
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
