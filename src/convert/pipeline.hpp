// pipeline.hpp — executes a ConversionPlan: input tensors streamed from the mapped file(s)
// (one file or the shards of a TensorSource) through the backend into the writer, in the
// plan's layout order, with an atomic commit.
// Resident memory stays bounded by a few tensors, whatever the model's size.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "backends/backend.hpp"
#include "core/progress_meter.hpp"
#include "input/tensor_source.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/reader.hpp"

namespace qfp8 {

struct ConvertSummary {
  std::size_t quantized = 0;   // input tensors quantized
  std::size_t kept = 0;        // input tensors copied unchanged
  uint64_t input_bytes = 0;    // size of the input file (all shards)
  uint64_t output_bytes = 0;   // size of the output file
  double seconds = 0.0;
  std::string backend;         // the backend's description()
};

/// Writes the output of `plan` (made from `input`'s header) into `sink` and commits it.
/// Throws qfp8::Error (NonFiniteWeight, WriteFailed, ...); the sink is then left
/// uncommitted. `progress` may be null.
ConvertSummary execute_plan(const TensorSource& input, const ConversionPlan& plan,
                            QuantizeBackend& backend, ByteSink& sink, ProgressMeter* progress);
/// The same for one file.
ConvertSummary execute_plan(const SafetensorsFile& input, const ConversionPlan& plan,
                            QuantizeBackend& backend, ByteSink& sink, ProgressMeter* progress);

/// Puts a stage between the pipeline and the atomic output file, e.g. a verifying sink
/// that checks the finished bytes before they may appear (the CLI's convert --verify).
using OutputStage = std::function<std::unique_ptr<ByteSink>(AtomicFileSink& file)>;

struct OutputOptions {
  bool overwrite = false;  // --force: replace an existing file
  OutputStage stage;       // empty: the pipeline writes to the file directly
};

/// execute_plan into `output_path`, written to a temporary file and linked into place only
/// when complete (and only once `output.stage`, if any, has committed): on any error (or
/// SIGINT/SIGTERM) no output appears.
ConvertSummary convert_to_file(const TensorSource& input, const ConversionPlan& plan,
                               QuantizeBackend& backend, const std::string& output_path,
                               const OutputOptions& output, ProgressMeter* progress);
ConvertSummary convert_to_file(const SafetensorsFile& input, const ConversionPlan& plan,
                               QuantizeBackend& backend, const std::string& output_path,
                               const OutputOptions& output, ProgressMeter* progress);

/// "<in> GB -> <out> GB in <t> s (<rate> GB/s), <n> quantized, <m> kept on cpu (<k> threads)"
std::string format_summary(const ConvertSummary& summary);

}  // namespace qfp8
