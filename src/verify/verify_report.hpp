// verify_report.hpp — how a VerifyResult reads: "[OK]/[WARN]/[ERR]" lines ending in
// "[PASS] N layers verified" or "[FAIL] N errors" (modelled on the reference verifier),
// or one JSON object for --json.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "verify/findings.hpp"

namespace qfp8::verify {

/// The text report. At most `per_id_limit` lines per finding id (the JSON lists all) and
/// the `worst` lowest-SNR layers of the quality table.
std::string format_text_report(const VerifyResult& result, std::size_t worst = 10,
                               std::size_t per_id_limit = 20);

/// The --json report: file, source, layout, passed, summary, findings, quality.
nlohmann::json json_report(const VerifyResult& result);

/// json_report() as one line ending in '\n'; invalid UTF-8 in messages is replaced.
std::string format_json_report(const VerifyResult& result);

/// JSON text of `value` as format_json_report() writes it (one line, '\n', UTF-8 replaced).
std::string json_report_text(const nlohmann::json& value);

}  // namespace qfp8::verify
