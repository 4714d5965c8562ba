// batch.hpp — `convert IN1 IN2 ... --output-dir DIR`: output naming, running every input
// through one conversion function (so one backend is reused), collecting a result per
// input instead of stopping at the first failure, the final table and the exit code.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "convert/pipeline.hpp"
#include "core/quant_format.hpp"

namespace qfp8 {

struct BatchItem {
  std::string input;   // file, index or sharded directory
  std::string output;  // <output-dir>/<stem>-<tag>.safetensors (tag: fp8-e4m3fn, ...)
};

struct BatchResult {
  BatchItem item;
  bool ok = false;
  int exit_code = 0;      // exit_code_for(the error) when !ok
  std::string message;    // the error's what() when !ok
  ConvertSummary summary; // when ok
  double seconds = 0.0;   // wall time of this input, ok or not
};

/// What the batch output names say about the format: "fp8-e4m3fn", "fp8-e5m2", "mxfp8" or
/// "nvfp4" after --format, with "-mixed" when format rules choose per layer.
std::string batch_format_tag(QuantFormat format, bool mixed);
inline constexpr const char* kDefaultBatchTag = "fp8-e4m3fn";

/// The output file name for `input`: "<stem>-<tag>.safetensors", where the stem is the
/// file name without ".safetensors" (or its last extension), a directory's own name, or
/// for an index file the name of its directory.
std::string batch_output_name(const std::string& input, const std::string& tag = kDefaultBatchTag);

/// One item per input, in order, outputs in `output_dir`. Throws Error(Usage) when two
/// inputs would write the same output.
std::vector<BatchItem> plan_batch(const std::vector<std::string>& inputs,
                                  const std::string& output_dir,
                                  const std::string& tag = kDefaultBatchTag);

/// Creates `dir` (and its parents) when missing; throws OpenFailed naming it otherwise.
void make_output_dir(const std::string& dir);

/// Reads `--input-list FILE`: one path per line; blank lines and lines starting with '#'
/// are skipped, surrounding spaces trimmed. Throws OpenFailed/ReadFailed.
std::vector<std::string> read_input_list(const std::string& path);

/// Runs `convert_one` on every item; a qfp8::Error (or other exception) ends that item
/// only, and is logged and recorded.
std::vector<BatchResult> run_batch(const std::vector<BatchItem>& items,
                                   const std::function<ConvertSummary(const BatchItem&)>& convert_one);

/// 0 when every input converted; else the highest exit code among the failures
/// (3 I/O or device > 2 invalid input > 1 usage).
int batch_exit_code(const std::vector<BatchResult>& results);

}  // namespace qfp8
