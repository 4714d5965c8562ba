// pipeline_check.cpp — selftest part (d): one synthetic checkpoint, two conversions,
// one byte comparison. The checkpoint goes to a fresh directory under $TMPDIR (or /tmp; Windows: %TEMP%)
// because the reader maps a file; the outputs stay in memory.
#include "selftest/pipeline_check.hpp"

#include <cstdio>
#include <string>

#include "backends/cpu/backend_cpu.hpp"
#include "convert/pipeline.hpp"
#include "core/error.hpp"
#include "platform/output_file.hpp"
#include "platform/process.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/reader.hpp"
#include "synth/synth_checkpoint.hpp"

namespace qfp8::selftest {
namespace {

/// A fresh directory under the system's temporary folder, removed with the one file put
/// in it.
class TempDirectory {
 public:
  TempDirectory() {
    if (const std::error_code error = platform::make_temp_directory("qfp8-selftest.", path_)) {
      throw Error(ErrorCode::WriteFailed, path_, "",
                  with_error("cannot create a temporary directory '" + path_ + "'", error));
    }
  }
  ~TempDirectory() {
    platform::remove_file(file());
    platform::remove_directory(path_);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;

  std::string file() const { return path_ + "/synthetic-bf16.safetensors"; }

 private:
  std::string path_;
};

std::vector<uint8_t> convert_in_memory(const SafetensorsFile& input, const ConversionPlan& plan,
                                       QuantizeBackend& backend) {
  MemorySink sink;
  execute_plan(input, plan, backend, sink, nullptr);
  return sink.bytes();
}

}  // namespace

SelftestCheck compare_pipeline(QuantizeBackend& backend, const std::string& label) {
  SelftestCheck check;
  check.name = "pipeline" + label;
  const TempDirectory directory;
  SynthConfig config;
  config.blocks = 2;
  config.width_div = 8;
  AtomicFileOptions no_fsync;
  no_fsync.fsync = false;  // a scratch file: durability would only cost time
  AtomicFileSink synth_sink(directory.file(), no_fsync);
  const SynthSummary synthetic = write_synth_checkpoint(config, synth_sink);

  const SafetensorsFile input(directory.file());
  const ConversionPlan plan = make_conversion_plan(input.header(), PlanOptions{}, input.path());
  const std::vector<uint8_t> got = convert_in_memory(input, plan, backend);
  auto reference_backend = make_cpu_backend(1u);
  const std::vector<uint8_t> want = convert_in_memory(input, plan, *reference_backend);

  check.passed = got == want;
  check.summary = backend.description() + ": synthetic Qwen-Image checkpoint (" +
                  std::to_string(synthetic.tensors) + " tensors, " +
                  std::to_string(plan.quantized_count) + " quantized), " +
                  std::to_string(got.size()) + "-byte output " +
                  (check.passed ? "identical to" : "DIFFERS from") + " the 1-thread CPU one";
  if (!check.passed) {
    std::size_t first = 0;
    while (first < got.size() && first < want.size() && got[first] == want[first]) ++first;
    check.details.push_back("first difference at byte " + std::to_string(first) + " of " +
                            std::to_string(want.size()));
  }
  return check;
}

}  // namespace qfp8::selftest
