// verify_report.cpp — text and JSON renderings of a VerifyResult.
#include "verify/verify_report.hpp"

#include <cmath>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "core/text_format.hpp"
#include "verify/quality_report.hpp"

namespace qfp8::verify {
namespace {

// Subjects, messages and layer names quote tensor and metadata names from the file: the
// text report shows them printable(), so none can forge a line such as "[PASS] ...". The
// JSON report keeps the exact names (its own escaping).
std::string finding_line(const Finding& finding) {
  std::string line = std::string("[") + severity_name(finding.severity) + "] ";
  // OK lines read as a sentence; problems lead with the rule's name.
  if (finding.severity != Severity::Ok) {
    line += finding.name();
    if (!finding.subject.empty()) line += " '" + printable(finding.subject) + "'";
    line += ": ";
  }
  return line + printable(finding.message) + "\n";
}

std::string findings_text(const VerifyResult& result, std::size_t per_id_limit) {
  std::string out;
  std::map<std::string, std::size_t> shown;
  std::map<std::string, std::size_t> hidden;
  for (const auto& finding : result.findings) {
    const std::string name = finding.name();
    if (shown[name]++ < per_id_limit) {
      out += finding_line(finding);
    } else {
      ++hidden[name];
    }
  }
  for (const auto& [id, count] : hidden) {
    out += "[...] " + std::to_string(count) + " more " + id + " finding(s) (--json lists all)\n";
  }
  return out;
}

std::string db_text(double snr_db) {
  if (std::isinf(snr_db)) return "exact";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f dB", snr_db);
  return text;
}

std::string quality_text(const std::vector<LayerQuality>& quality, std::size_t worst) {
  if (quality.empty()) return {};
  std::string out = "quality, worst " + std::to_string(std::min(worst, quality.size())) + " of " +
                    std::to_string(quality.size()) + " layers by SNR:\n";
  out += "       SNR    rel L2  max abs err  flushed  saturated  layer\n";
  char line[160];
  for (std::size_t i = 0; i < quality.size() && i < worst; ++i) {
    const LayerQuality& q = quality[i];
    std::snprintf(line, sizeof line, "%10s  %8.2e  %11.3e  %7.4f%%  %8.4f%%  ",
                  db_text(q.snr_db).c_str(), q.relative_l2, q.max_abs_error,
                  100.0 * q.flushed_fraction, 100.0 * q.saturated_fraction);
    out += line + printable(q.layer) + "\n";
  }
  const QualitySummary summary = summarize_quality(quality);
  out += "quality: " + std::to_string(summary.layers) + " layers, mean SNR " +
         db_text(summary.mean_snr_db) + ", min " + db_text(summary.min_snr_db);
  if (!summary.min_snr_layer.empty()) out += " (" + printable(summary.min_snr_layer) + ")";
  if (summary.exact_layers != 0) out += ", " + std::to_string(summary.exact_layers) + " exact";
  return out + "\n";
}

}  // namespace

std::string format_text_report(const VerifyResult& result, std::size_t worst,
                               std::size_t per_id_limit) {
  std::string out = findings_text(result, per_id_limit) + quality_text(result.quality, worst);
  if (result.passed()) {
    out += "[PASS] " + std::to_string(result.layers_verified) + " layers verified";
    if (result.warning_count() != 0)
      out += " (" + std::to_string(result.warning_count()) + " warnings)";
  } else {
    out += "[FAIL] " + std::to_string(result.error_count()) + " errors";
  }
  return out + "\n";
}

nlohmann::json json_report(const VerifyResult& result) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : result.findings) {
    findings.push_back({{"id", f.name()},
                        {"severity", severity_name(f.severity)},
                        {"subject", f.subject},
                        {"message", f.message}});
  }
  nlohmann::json root = {
      {"file", result.path},
      {"source",
       result.source_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.source_path)},
      {"layout", result.legacy_layout ? "legacy_scaled_fp8" : "quantization_metadata"},
      {"passed", result.passed()},
      {"summary",
       {{"layers", result.layers_verified},
        {"errors", result.error_count()},
        {"warnings", result.warning_count()}}},
      {"findings", findings}};
  if (!result.source_path.empty()) root["quality"] = quality_to_json(result.quality);
  return root;
}

std::string json_report_text(const nlohmann::json& value) {
  // Replace invalid UTF-8 (tensor names are validated, messages may quote raw bytes).
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string format_json_report(const VerifyResult& result) {
  return json_report_text(json_report(result));
}

}  // namespace qfp8::verify
