// test_pipeline.cpp — the pipeline's contract with the backend and the sink, with
// a scripted backend: results land in layout order, scales are filled in, and a failing
// backend leaves the sink uncommitted with an error naming file and tensor.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "cli/progress.hpp"
#include "convert/pipeline.hpp"
#include "core/error.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/reader.hpp"
#include "support/convert_checks.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

/// Writes code (job index + 1) everywhere with scale 2^-job, in odd-sized pieces; or
/// throws NonFiniteWeight at job `fail_at`.
class ScriptedBackend final : public QuantizeBackend {
 public:
  explicit ScriptedBackend(std::size_t fail_at = SIZE_MAX) : fail_at_(fail_at) {}
  std::string description() const override { return "scripted"; }
  void run(const std::vector<QuantizeJob>& jobs, QuantizedConsumer& consumer) override {
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      if (seen_ == fail_at_) throw Error(ErrorCode::NonFiniteWeight, {}, jobs[j].name, "contains NaN");
      ++seen_;
      consumer.begin_tensor(j, std::ldexp(1.0f, -static_cast<int>(j)));
      const std::vector<uint8_t> codes(jobs[j].numel, static_cast<uint8_t>(j + 1));
      for (uint64_t done = 0; done < codes.size();) {
        const uint64_t piece = std::min<uint64_t>(1000, codes.size() - done);
        consumer.tensor_bytes(j, codes.data() + done, piece);
        done += piece;
      }
      consumer.end_tensor(j);
    }
  }
  std::size_t seen_ = 0;

 private:
  std::size_t fail_at_;
};

}  // namespace

TEST_CASE("pipeline writes backend results in layout order and fills scales", "[convert]") {
  const std::string dir = scratch_dir("convert_pipeline");
  write_synthetic_model(dir + "/in.safetensors", {});
  const SafetensorsFile input(dir + "/in.safetensors");
  const ConversionPlan plan = make_conversion_plan(input.header(), {}, "in");
  ScriptedBackend backend;
  MemorySink sink;
  Progress progress(ProgressStyle::Off, plan.decisions.size(), input.header().data_size);
  const ConvertSummary summary = execute_plan(input, plan, backend, sink, &progress);
  CHECK(sink.committed());
  CHECK(sink.bytes().size() == plan.layout.file_size());
  CHECK(summary.backend == "scripted");
  CHECK(progress.tensors_done() == plan.decisions.size());
  CHECK(progress.bytes_done() == input.header().data_size);

  // All quantized weights form one run (consecutive F8_E4M3 outputs): job k is the k-th
  // quantized weight in layout order.
  const auto& layout = plan.layout.tensors();
  const uint64_t data_start = plan.layout.header_bytes().size();
  std::size_t job = 0;
  for (std::size_t i = 0; i < layout.size(); ++i) {
    if (plan.outputs[i].source != OutputSource::QuantizedWeight) continue;
    const uint8_t* weight = sink.bytes().data() + data_start + layout[i].begin;
    CHECK(weight[0] == job + 1);
    CHECK(weight[layout[i].numel - 1] == job + 1);
    const std::string scale_name =
        layout[i].name.substr(0, layout[i].name.size() - 7) + ".weight_scale";
    const TensorInfo& scale = layout[plan.layout.index_of(scale_name)];
    CHECK(f32_from_le(sink.bytes().data() + data_start + scale.begin) ==
          std::ldexp(1.0f, -static_cast<int>(job)));
    ++job;
  }
  CHECK(job == plan.quantized_count);
}

TEST_CASE("a failing backend leaves the sink uncommitted, error names file and tensor", "[convert]") {
  const std::string dir = scratch_dir("convert_pipeline_fail");
  write_synthetic_model(dir + "/in.safetensors", {});
  const SafetensorsFile input(dir + "/in.safetensors");
  const ConversionPlan plan = make_conversion_plan(input.header(), {}, "in");
  ScriptedBackend backend(3);
  MemorySink sink;
  try {
    execute_plan(input, plan, backend, sink, nullptr);
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::NonFiniteWeight);
    CHECK(error.file() == dir + "/in.safetensors");
    CHECK_FALSE(error.tensor().empty());
  }
  CHECK_FALSE(sink.committed());
}

TEST_CASE("progress style and the summary line", "[convert]") {
  CHECK(progress_style_for(true, false, true) == ProgressStyle::Off);
  CHECK(progress_style_for(false, true, true) == ProgressStyle::Off);
  CHECK(progress_style_for(false, false, true) == ProgressStyle::Bar);
  CHECK(progress_style_for(false, false, false) == ProgressStyle::Lines);

  ConvertSummary summary;
  summary.input_bytes = 40'900'000'000ull;
  summary.output_bytes = 20'500'000'000ull;
  summary.seconds = 38.2;
  summary.quantized = 846;
  summary.kept = 1087;
  summary.backend = "cpu (2 threads)";
  // 40.9 GB / 38.2 s = 1.0707 GB/s.
  CHECK(format_summary(summary) ==
        "40.9 GB -> 20.5 GB in 38.2 s (1.07 GB/s), 846 quantized, 1087 kept on cpu (2 threads)");
  summary.input_bytes = 17'016;
  summary.output_bytes = 13'207;
  summary.seconds = 0.0;
  CHECK(format_summary(summary) ==
        "17.0 kB -> 13.2 kB in 0.0 s (0.00 GB/s), 846 quantized, 1087 kept on cpu (2 threads)");
}
