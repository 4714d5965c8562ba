// quality_report.cpp — error statistics of dequantized weights against the source, in double.
#include "verify/quality_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "plan/comfy_metadata.hpp"

namespace qfp8::verify {

void QualitySums::merge(const QualitySums& other) {
  sum_w2 += other.sum_w2;
  sum_e2 += other.sum_e2;
  max_abs_error = std::max(max_abs_error, other.max_abs_error);
  nonzero += other.nonzero;
  flushed += other.flushed;
  saturated += other.saturated;
}

LayerQuality layer_quality(const std::string& layer, uint64_t numel, const QualitySums& sums) {
  LayerQuality q;
  q.layer = layer;
  q.numel = numel;
  q.relative_l2 = sums.sum_e2 == 0.0 ? 0.0 : std::sqrt(sums.sum_e2) / std::sqrt(sums.sum_w2);
  q.snr_db = sums.sum_e2 == 0.0 ? std::numeric_limits<double>::infinity()
                                : 10.0 * std::log10(sums.sum_w2 / sums.sum_e2);
  q.max_abs_error = sums.max_abs_error;
  q.flushed_fraction = sums.nonzero == 0
                           ? 0.0
                           : static_cast<double>(sums.flushed) / static_cast<double>(sums.nonzero);
  q.saturated_fraction =
      numel == 0 ? 0.0 : static_cast<double>(sums.saturated) / static_cast<double>(numel);
  return q;
}

void sort_worst_first(std::vector<LayerQuality>& layers) {
  std::sort(layers.begin(), layers.end(), [](const LayerQuality& a, const LayerQuality& b) {
    if (a.snr_db != b.snr_db) return a.snr_db < b.snr_db;
    return a.layer < b.layer;
  });
}

QualitySummary summarize_quality(const std::vector<LayerQuality>& layers) {
  QualitySummary summary;
  summary.layers = layers.size();
  summary.min_snr_db = std::numeric_limits<double>::infinity();
  double total = 0.0;
  std::size_t finite = 0;
  for (const auto& layer : layers) {
    summary.max_relative_l2 = std::max(summary.max_relative_l2, layer.relative_l2);
    if (std::isinf(layer.snr_db)) {
      ++summary.exact_layers;
      continue;
    }
    total += layer.snr_db;
    ++finite;
    if (layer.snr_db < summary.min_snr_db) {
      summary.min_snr_db = layer.snr_db;
      summary.min_snr_layer = layer.layer;
    }
  }
  summary.mean_snr_db = finite == 0 ? 0.0 : total / static_cast<double>(finite);
  return summary;
}

bool is_report_path(const std::string& path) {
  return has_suffix(path, ".json") || has_suffix(path, ".csv");
}

namespace {

// JSON has no infinity: an exact layer's SNR is null.
nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

std::string csv_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string report_json(const std::vector<LayerQuality>& layers) {
  return quality_to_json(layers).dump(2) + "\n";
}

std::string report_csv(const std::vector<LayerQuality>& layers) {
  std::string out =
      "layer,numel,snr_db,relative_l2,max_abs_error,flushed_fraction,saturated_fraction\n";
  char line[256];
  for (const auto& q : layers) {
    std::snprintf(line, sizeof line, ",%llu,%.17g,%.17g,%.17g,%.17g,%.17g\n",
                  static_cast<unsigned long long>(q.numel), q.snr_db, q.relative_l2,
                  q.max_abs_error, q.flushed_fraction, q.saturated_fraction);
    out += csv_quoted(q.layer) + line;
  }
  return out;
}

}  // namespace

nlohmann::json quality_to_json(const std::vector<LayerQuality>& layers) {
  const QualitySummary summary = summarize_quality(layers);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& q : layers) {
    rows.push_back({{"layer", q.layer},
                    {"numel", q.numel},
                    {"snr_db", number_or_null(q.snr_db)},
                    {"relative_l2", q.relative_l2},
                    {"max_abs_error", q.max_abs_error},
                    {"flushed_fraction", q.flushed_fraction},
                    {"saturated_fraction", q.saturated_fraction}});
  }
  return {{"summary",
           {{"layers", summary.layers},
            {"exact_layers", summary.exact_layers},
            {"mean_snr_db", summary.mean_snr_db},
            {"min_snr_db", number_or_null(summary.min_snr_db)},
            {"min_snr_layer", summary.min_snr_layer},
            {"max_relative_l2", summary.max_relative_l2}}},
          {"layers", rows}};
}

std::string quality_report_text(const std::string& path, const std::vector<LayerQuality>& layers) {
  if (!is_report_path(path)) {
    throw Error(ErrorCode::Usage,
                "cannot write report '" + path + "': name must end in .json or .csv");
  }
  return has_suffix(path, ".json") ? report_json(layers) : report_csv(layers);
}

}  // namespace qfp8::verify
