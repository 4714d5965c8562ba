// convert_json.cpp — see the header.
#include "cli/convert_json.hpp"

#include <nlohmann/json.hpp>

namespace qfp8::cli {

std::string convert_json_text(const ConvertReport& report) {
  const ConvertSummary& summary = report.summary;
  const nlohmann::json root = {
      {"input", report.input},
      {"output", report.output.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.output)},
      {"dry_run", report.dry_run},
      {"verified", report.verified},
      {"quantized", summary.quantized},
      {"kept", summary.kept},
      {"input_bytes", summary.input_bytes},
      {"output_bytes", summary.output_bytes},
      {"seconds", summary.seconds},
      {"backend", summary.backend}};
  // Paths are bytes on POSIX: invalid UTF-8 is replaced rather than thrown on.
  return root.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace qfp8::cli
