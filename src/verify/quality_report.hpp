// quality_report.hpp — per-layer quantization quality: the double accumulators filled by
// the source comparison, the derived numbers, ordering (worst first), a summary, and the
// --report files (JSON or CSV, every layer).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "verify/findings.hpp"

namespace qfp8::verify {

/// Sums over a run of elements; chunks are merged in chunk order for deterministic doubles.
struct QualitySums {
  double sum_w2 = 0.0;  // sum of w^2
  double sum_e2 = 0.0;  // sum of (deq - w)^2
  double max_abs_error = 0.0;
  uint64_t nonzero = 0;    // source elements != 0
  uint64_t flushed = 0;    // of those, elements whose code is ±0
  uint64_t saturated = 0;  // codes of the element format's largest magnitude

  /// One element: source value w, its dequantized value (the product of the element's
  /// value and its scales, exact in double), whether its code is ±0 and whether it is the
  /// element format's largest magnitude (±448 E4M3FN, ±57344 E5M2, ±6 E2M1).
  /// Defined here, called per element: inlined into the scans' element loops.
  void add(float w, double dequantized, bool zero_code, bool max_code) {
    add_times(w, dequantized, zero_code, max_code, 1);  // times 1.0: exact, the same sums
  }
  /// `count` elements of the same source value and code at once (a histogram's bin): each
  /// square is multiplied by the count before it is added.
  void add_times(float w, double dequantized, bool zero_code, bool max_code, uint64_t count) {
    const double source = static_cast<double>(w);
    const double error = dequantized - source;
    const double times = static_cast<double>(count);
    sum_w2 += times * (source * source);
    sum_e2 += times * (error * error);
    max_abs_error = std::max(max_abs_error, std::fabs(error));
    if (w != 0.0f) {
      nonzero += count;
      if (zero_code) flushed += count;
    }
    if (max_code) saturated += count;
  }
  void merge(const QualitySums& other);
};

LayerQuality layer_quality(const std::string& layer, uint64_t numel, const QualitySums& sums);

/// Lowest SNR first; ties (e.g. exact layers) by name, so the order is stable.
void sort_worst_first(std::vector<LayerQuality>& layers);

QualitySummary summarize_quality(const std::vector<LayerQuality>& layers);

/// {"summary": {...}, "layers": [...]}: SNR of exact layers is null (JSON has no infinity).
nlohmann::json quality_to_json(const std::vector<LayerQuality>& layers);

/// The --report file for `path`, every layer: JSON when it ends in ".json", CSV when
/// ".csv" (Usage error otherwise). The caller writes it atomically (AtomicFileSink).
std::string quality_report_text(const std::string& path, const std::vector<LayerQuality>& layers);

/// True for a --report name this tool can write.
bool is_report_path(const std::string& path);

}  // namespace qfp8::verify
