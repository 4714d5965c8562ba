// verify.cpp — verify_file(): opens the output (a container error is a finding), runs the
// format rules, and with a source the re-derivation and quality measurement.
#include "verify/verify.hpp"

#include <optional>

#include "core/error.hpp"
#include "verify/against_source.hpp"
#include "verify/chunked_scan.hpp"
#include "verify/format_checker.hpp"

namespace qfp8::verify {

VerifyResult verify_file(const std::string& path, const VerifyOptions& options) {
  VerifyResult result;
  result.path = path;
  result.source_path = options.source_path;
  FindingList findings;
  std::optional<SafetensorsFile> output;
  try {
    output.emplace(path);
  } catch (const Error& error) {
    // Only invalid input is a property of the file; I/O failures (exit 3) and broken
    // invariants (exit 4) keep their own exit codes.
    if (exit_code_for(error.code()) != kExitInvalid) throw;
    findings.add({FindingId::ContainerInvalid, Severity::Err, error.tensor(), error.what(),
                  error.code()});
    result.findings = std::move(findings.items());
    return result;
  }
  findings.ok(FindingId::Container, "",
              "safetensors container valid: " + std::to_string(output->header().tensors.size()) +
                  " tensors, " + std::to_string(output->file_size()) + " bytes");
  const unsigned threads = resolve_threads(options.threads);
  const Fp8Layout inventory = check_layout(*output, findings);
  result.legacy_layout = inventory.legacy;
  result.layers_verified = inventory.layer_count;
  // With a source, the re-derivation counts the layer weights' non-finite codes as it reads
  // them (the weights are most of the file); its findings follow the format rules'.
  FindingList source_findings;
  NonfiniteCounts counted;
  if (!options.source_path.empty()) {
    const SafetensorsFile source(options.source_path);
    check_against_source(*output, source, inventory, threads, source_findings, result.quality,
                         counted, options.progress);
  }
  check_codes_finite(*output, threads, findings, counted);
  result.findings = std::move(findings.items());
  for (auto& finding : source_findings.items()) result.findings.push_back(std::move(finding));
  return result;
}

fp8_layout::Fp8Layout require_valid_format(const SafetensorsFile& file, unsigned threads,
                                           const std::string& action) {
  FindingList findings;
  Fp8Layout layout = check_format(file, resolve_threads(threads), findings);
  // Acting on a half-valid file would silently drop or mis-scale weights.
  for (const auto& finding : findings.items()) {
    if (finding.severity != Severity::Err) continue;
    throw Error(ErrorCode::VerificationFailed, file.path(), finding.subject,
                "cannot " + action + ": input is not a valid FP8 scaled checkpoint: [" +
                    finding.name() + "] " + finding.message);
  }
  return layout;
}

std::string failure_summary(const VerifyResult& result) {
  std::string text = std::to_string(result.error_count()) + " verification error(s)";
  for (const auto& finding : result.findings) {
    if (finding.severity != Severity::Err) continue;
    text += "; first: [" + finding.name() + "] ";
    if (!finding.subject.empty()) text += finding.subject + ": ";
    return text + finding.message;
  }
  return text;
}

}  // namespace qfp8::verify
