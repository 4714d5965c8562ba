// findings.hpp — what a verification produces: named findings (one id per rule, with the
// layer or tensor it concerns), per-layer quality numbers, and the overall result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qfp8::verify {

enum class Severity { Ok, Warn, Err };

/// "OK", "WARN", "ERR": the tag printed as "[OK] ...".
const char* severity_name(Severity severity) noexcept;

struct Finding {
  std::string id;  // the rule, e.g. "MissingWeightScale", "NanCode", "InvalidOffset"
  Severity severity = Severity::Ok;
  std::string subject;  // layer or tensor name; empty for file-wide findings
  std::string message;  // one line for the user
};

/// Quantization quality of one layer, measured against its source (verify --against).
/// Sums are in double; the dequantized value is fp8_value * scale, exactly as in double.
struct LayerQuality {
  std::string layer;
  uint64_t numel = 0;
  double relative_l2 = 0.0;  // ||deq - w|| / ||w||, 0 when both are 0
  double snr_db = 0.0;       // 10 log10(sum w^2 / sum (deq - w)^2); +inf when exact
  double max_abs_error = 0.0;
  double flushed_fraction = 0.0;    // nonzero source elements that became code 0 / 0x80
  double saturated_fraction = 0.0;  // elements whose code is ±448 (0x7E / 0xFE)
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
  std::vector<const Finding*> with_id(const std::string& id) const;
};

/// Collects findings while the checks run.
class FindingList {
 public:
  void ok(std::string id, std::string subject, std::string message);
  void warn(std::string id, std::string subject, std::string message);
  void err(std::string id, std::string subject, std::string message);
  void add(Finding finding) { findings_.push_back(std::move(finding)); }
  std::size_t error_count() const;
  std::vector<Finding>& items() { return findings_; }

 private:
  std::vector<Finding> findings_;
};

}  // namespace qfp8::verify
