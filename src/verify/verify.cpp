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
    // I/O failures are not a property of the file: they keep their own exit code (3).
    if (exit_code_for(error.code()) == kExitIo) throw;
    findings.err(error_code_name(error.code()), error.tensor(), error.what());
    result.findings = std::move(findings.items());
    return result;
  }
  findings.ok("Container", "",
              "safetensors container valid: " + std::to_string(output->header().tensors.size()) +
                  " tensors, " + std::to_string(output->file_size()) + " bytes");
  const unsigned threads = resolve_threads(options.threads);
  const LayerInventory inventory = check_format(*output, threads, findings);
  result.legacy_layout = inventory.legacy;
  result.layers_verified = inventory.layer_count;
  if (!options.source_path.empty()) {
    const SafetensorsFile source(options.source_path);
    check_against_source(*output, source, inventory, threads, findings, result.quality,
                         options.progress);
  }
  result.findings = std::move(findings.items());
  return result;
}

std::string failure_summary(const VerifyResult& result) {
  std::string text = std::to_string(result.error_count()) + " verification error(s)";
  for (const auto& finding : result.findings) {
    if (finding.severity != Severity::Err) continue;
    text += "; first: [" + finding.id + "] ";
    if (!finding.subject.empty()) text += finding.subject + ": ";
    return text + finding.message;
  }
  return text;
}

}  // namespace qfp8::verify
