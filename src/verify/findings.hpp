// findings.hpp — what a verification produces: named findings (one FindingId per rule, with
// the layer or tensor it concerns), per-layer quality numbers, and the overall result.
// The ids, their printed names and what each means are one table (findings.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace qfp8::verify {

enum class Severity { Ok, Warn, Err };

/// "OK", "WARN", "ERR": the tag printed as "[OK] ...".
const char* severity_name(Severity severity) noexcept;

/// Every rule verify reports on. The printed name of each is its enumerator's name
/// (finding_table() holds both and the one-line meaning).
enum class FindingId : uint8_t {
  // The container (safetensors reader rules).
  Container,
  ContainerInvalid,
  // The `_quantization_metadata` layout (and files declared by `.comfy_quant` tensors).
  QuantizationMetadata,
  InvalidQuantizationMetadata,
  FormatVersion,
  MissingQuantizationMetadata,
  InvalidLayerConfig,
  ComfyQuantInvalid,
  ComfyQuantMismatch,
  ComfyQuantNotCanonical,
  PrefixMismatch,
  MissingWeight,
  MissingWeightScale,
  MissingWeightScale2,
  UndeclaredFp8Weight,
  StrayCompanion,
  Layers,
  // The legacy `scaled_fp8` layout.
  LegacyLayout,
  LegacyMarker,
  LegacyMixed,
  MissingScaleWeight,
  // Single tensors, both layouts.
  WeightDtype,
  WeightShape,
  ScaleDtype,
  ScaleShape,
  ScaleNotFinite,
  ScaleNotPositive,
  BlockScaleDtype,
  BlockScaleShape,
  BlockScaleNegative,
  BlockScalePadding,
  InputScaleDtype,
  InputScaleShape,
  InputScaleNotFinite,
  InputScaleNotPositive,
  NanCode,
  // verify --against SRC.
  Rederived,
  SourceWeightMissing,
  SourceMismatch,
  SourceNonFinite,
  ScaleBitsDiffer,
  BlockScalesDiffer,
  WeightBytesDiffer,
  KeptTensors,
  TensorAdded,
  KeptTensorMismatch,
  KeptTensorChanged,
  TensorLost,
  MetadataChanged,
};

inline constexpr std::size_t kFindingIdCount = 49;  // enumerators of FindingId

struct FindingInfo {
  FindingId id;
  const char* name;     // printed in text and JSON reports: never change one
  const char* meaning;  // one line for the documentation
};

/// One entry per FindingId, in enumerator order.
const std::array<FindingInfo, kFindingIdCount>& finding_table() noexcept;
/// The printed name of `id`, e.g. "MissingWeightScale".
const char* finding_name(FindingId id) noexcept;

struct Finding {
  FindingId id = FindingId::Container;
  Severity severity = Severity::Ok;
  std::string subject;  // layer or tensor name; empty for file-wide findings
  std::string message;  // one line for the user
  // ContainerInvalid only: the reader's rule, printed instead of "ContainerInvalid".
  std::optional<ErrorCode> container_error;

  /// The id as printed: the table's name, or the reader error's name (e.g. "InvalidOffset").
  std::string name() const;
};

/// Quantization quality of one layer, measured against its source (verify --against).
/// Sums are in double; the dequantized value is the element's value times its scales
/// (docs/format.md#formats), exact in double.
struct LayerQuality {
  std::string layer;
  uint64_t numel = 0;
  double relative_l2 = 0.0;  // ||deq - w|| / ||w||, 0 when both are 0
  double snr_db = 0.0;       // 10 log10(sum w^2 / sum (deq - w)^2); +inf when exact
  double max_abs_error = 0.0;
  double flushed_fraction = 0.0;    // nonzero source elements that became code 0 / 0x80
  double saturated_fraction = 0.0;  // elements at the largest magnitude (±448 E4M3FN, ±57344
                                    // E5M2, ±6 E2M1)
};

struct QualitySummary {
  std::size_t layers = 0;
  std::size_t exact_layers = 0;  // SNR +inf
  double mean_snr_db = 0.0;      // over the layers with a finite SNR
  double min_snr_db = 0.0;       // +inf when every layer is exact
  std::string min_snr_layer;
  double max_relative_l2 = 0.0;
};

struct VerifyResult {
  std::string path;
  std::string source_path;            // empty without --against
  bool legacy_layout = false;         // a `scaled_fp8` marker file
  std::size_t layers_verified = 0;    // declared (or, legacy, scaled) layers
  std::vector<Finding> findings;      // in the order the checks ran
  std::vector<LayerQuality> quality;  // worst (lowest SNR) first; empty without a source

  std::size_t count(Severity severity) const;
  std::size_t error_count() const { return count(Severity::Err); }
  std::size_t warning_count() const { return count(Severity::Warn); }
  bool passed() const { return error_count() == 0; }
  /// The findings with this id (tests and callers look problems up by rule).
  std::vector<const Finding*> with_id(FindingId id) const;
  /// The findings whose printed name is `name` (a reader error's name included).
  std::vector<const Finding*> with_id(const std::string& name) const;
};

/// Collects findings while the checks run.
class FindingList {
 public:
  void ok(FindingId id, std::string subject, std::string message);
  void warn(FindingId id, std::string subject, std::string message);
  void err(FindingId id, std::string subject, std::string message);
  void add(Finding finding) { findings_.push_back(std::move(finding)); }
  std::size_t error_count() const;
  std::vector<Finding>& items() { return findings_; }
  const std::vector<Finding>& items() const { return findings_; }

 private:
  std::vector<Finding> findings_;
};

}  // namespace qfp8::verify
