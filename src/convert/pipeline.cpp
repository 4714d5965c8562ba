// pipeline.cpp — walks the output layout in order: copies stream straight from the map
// (of whichever shard holds the tensor), scales (per-tensor and block scales) are reserved
// and filled once their weight is quantized, and each run of consecutive quantized weights
// goes to the backend in one call.
#include "convert/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

#include "core/bf16.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/log.hpp"
#include "core/quant_format.hpp"
#include "core/text_format.hpp"
#include "safetensors/background_sink.hpp"
#include "safetensors/writer.hpp"

namespace qfp8 {
namespace {

// Copies go to the sink in pieces of one source slice (16 MiB): large enough for
// full-speed writes, and each piece's pages leave memory once written, so even a 100 MB
// kept tensor is never all mapped at once.
constexpr uint64_t kCopyChunk = kSourceSliceBytes;

double mebibytes(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

/// Where a conversion's time went, logged at debug level (-v) at the end: the stage that
/// takes the most is the one to work on.
struct StageSeconds {
  double backend = 0;  // absmax and cast (or the CUDA pipeline), without its writes
  double write = 0;    // quantized bytes and scales handed to the output
  double copy = 0;     // kept tensors: read from the input and written
  double finish = 0;   // fsync and publish (and --verify's checks)
};

/// Adds the time from construction to destruction to `total`.
class StageTimer {
 public:
  explicit StageTimer(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~StageTimer() {
    total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

class PlanExecutor {
 public:
  PlanExecutor(const TensorSource& input, const ConversionPlan& plan,
               QuantizeBackend& backend, ByteSink& sink, ProgressMeter* progress)
      : input_(input), plan_(plan), backend_(backend), writer_(plan.layout, sink),
        progress_(progress) {
    for (const auto& output : plan.outputs) {
      if (output.source == OutputSource::WeightScale) scale_name_[output.source_name] = output.name;
      if (output.source == OutputSource::BlockScales) {
        block_scales_name_[output.source_name] = output.name;
      }
    }
  }

  void run() {
    const auto& outputs = plan_.outputs;
    for (std::size_t i = 0; i < outputs.size();) {
      const OutputTensorPlan& output = outputs[i];
      if (output.source == OutputSource::QuantizedWeight) {
        std::size_t end = i;
        while (end < outputs.size() && outputs[end].source == OutputSource::QuantizedWeight) ++end;
        quantize_run(i, end);
        i = end;
        continue;
      }
      if (output.source == OutputSource::CopyOfInput) {
        const StageTimer timer(stages_.copy);
        copy_tensor(output, i + 1 < outputs.size() ? &outputs[i + 1] : nullptr);
      } else if (output.source == OutputSource::WeightScale ||
                 output.source == OutputSource::BlockScales) {
        writer_.defer_tensor(output.name);
      } else if (output.source == OutputSource::ConvertedToBf16) {
        const StageTimer timer(stages_.copy);
        convert_to_bf16_tensor(output);
      } else {
        writer_.write_tensor(output.name, output.constant_bytes.data(),
                             output.constant_bytes.size());
      }
      ++i;
    }
    const StageTimer timer(stages_.finish);
    writer_.finish();
  }

  const StageSeconds& stages() const { return stages_; }

  /// Called by the consumer: the per-tensor scale of job `index` in the current run is
  /// known (0 and unused for mxfp8, which has none).
  void begin_quantized(std::size_t index, float scale) {
    const TensorInfo& tensor = *run_tensors_[index];
    // The output name may differ from the input's (--strip-prefix / --add-prefix).
    if (writer_.next_tensor() != *run_outputs_[index]) {
      throw Error(ErrorCode::Internal, input_.label(), tensor.name,
                  "cannot write: backend result out of layout order");
    }
    if (index + 1 < run_tensors_.size()) input_.prefetch(*run_tensors_[index + 1]);
    if (!has_tensor_scale(run_formats_[index])) return;
    const uint32_t bits = float_bits(scale);
    const uint8_t bytes[4] = {static_cast<uint8_t>(bits), static_cast<uint8_t>(bits >> 8),
                              static_cast<uint8_t>(bits >> 16), static_cast<uint8_t>(bits >> 24)};
    writer_.fill_deferred(scale_name_.at(tensor.name), bytes, sizeof bytes);
  }

  void quantized_bytes(std::size_t index, const uint8_t* data, uint64_t count) {
    {
      const StageTimer timer(stages_.write);
      writer_.append(data, count);
    }
    // Progress counts source bytes: nvfp4 packs two elements in each byte.
    const uint64_t elements = run_formats_[index] == QuantFormat::Nvfp4 ? 2 * count : count;
    if (progress_) progress_->add_bytes(elements * dtype_size(run_tensors_[index]->dtype));
  }

  void quantized_block_scales(std::size_t index, const uint8_t* codes, uint64_t count) {
    const StageTimer timer(stages_.write);
    writer_.fill_deferred(block_scales_name_.at(run_tensors_[index]->name), codes, count);
  }

  void quantized_source_read(std::size_t index, uint64_t offset, uint64_t length) {
    input_.release_part(*run_tensors_[index], offset, length);
  }

  void end_quantized(std::size_t index) {
    const TensorInfo& tensor = *run_tensors_[index];
    input_.release(tensor);
    const QuantFormat format = run_formats_[index];
    tensor_done(tensor, data_dtype(format),
                format == QuantFormat::Nvfp4 ? tensor.numel / 2 : tensor.numel);
  }

 private:
  const TensorInfo& source_of(const OutputTensorPlan& output) const {
    const TensorInfo* tensor = input_.find(output.source_name);
    if (tensor == nullptr) {
      throw Error(ErrorCode::Internal, input_.label(), output.source_name,
                  "cannot find the planned source tensor in the input");
    }
    return *tensor;
  }

  void copy_tensor(const OutputTensorPlan& output, const OutputTensorPlan* next) {
    const TensorInfo& tensor = source_of(output);
    if (next != nullptr && !next->source_name.empty() && next->source != OutputSource::WeightScale) {
      input_.prefetch(source_of(*next));
    }
    const ByteView view = input_.bytes(tensor);
    for (uint64_t offset = 0; offset < view.size; offset += kCopyChunk) {
      const uint64_t size = std::min(kCopyChunk, view.size - offset);
      writer_.append(view.data + offset, size);
      input_.release_part(tensor, offset, size);
      if (progress_) progress_->add_bytes(size);
    }
    if (view.size == 0) writer_.write_tensor(output.name, view.data, 0);
    input_.release(tensor);
    tensor_done(tensor, tensor.dtype, tensor.byte_size());
  }

  void quantize_run(std::size_t begin, std::size_t end);

  /// --keep-dtype bf16: an F16/F32 tensor rounded to BF16 (nearest even) in bounded pieces.
  void convert_to_bf16_tensor(const OutputTensorPlan& output) {
    const TensorInfo& tensor = source_of(output);
    const ByteView view = input_.bytes(tensor);
    const std::size_t element_size = dtype_size(tensor.dtype);
    const uint64_t piece = kCopyChunk / element_size;  // elements per piece
    std::vector<uint8_t> converted;
    for (uint64_t first = 0; first < tensor.numel; first += piece) {
      const uint64_t count = std::min(piece, tensor.numel - first);
      converted.resize(count * 2);
      convert_to_bf16(tensor.dtype, view.data + first * element_size, count, converted.data());
      writer_.append(converted.data(), converted.size());
      input_.release_part(tensor, first * element_size, count * element_size);
      if (progress_) progress_->add_bytes(count * element_size);
    }
    if (tensor.numel == 0) writer_.write_tensor(output.name, view.data, 0);
    input_.release(tensor);
    tensor_done(tensor, Dtype::BF16, tensor.numel * 2);
  }

  void tensor_done(const TensorInfo& tensor, Dtype out_dtype, uint64_t out_bytes) {
    ++tensors_done_;
    if (progress_) progress_->tensor_done();
    if (!log_enabled(LogLevel::Debug)) return;
    log_debug("[{:>4}/{}] {} {} {} -> {} {:.1f} -> {:.1f} MiB", tensors_done_,
                  plan_.decisions.size(), tensor.name, shape_text(tensor.shape),
                  dtype_name(tensor.dtype), dtype_name(out_dtype), mebibytes(tensor.byte_size()),
                  mebibytes(out_bytes));
  }

  const TensorSource& input_;
  const ConversionPlan& plan_;
  QuantizeBackend& backend_;
  SafetensorsWriter writer_;
  ProgressMeter* progress_;
  std::map<std::string, std::string> scale_name_;  // weight name -> its scale's name
  std::map<std::string, std::string> block_scales_name_;  // weight name -> its block scales
  std::vector<const TensorInfo*> run_tensors_;      // sources of the current backend run
  std::vector<const std::string*> run_outputs_;     // their output names
  std::vector<QuantFormat> run_formats_;            // their formats
  std::size_t tensors_done_ = 0;
  StageSeconds stages_;
};

/// Forwards the backend's results to the executor, which owns the writer.
class ExecutorConsumer final : public QuantizedConsumer {
 public:
  explicit ExecutorConsumer(PlanExecutor& executor) : executor_(executor) {}
  void begin_tensor(std::size_t job, float scale) override { executor_.begin_quantized(job, scale); }
  void tensor_bytes(std::size_t job, const uint8_t* data, uint64_t count) override {
    executor_.quantized_bytes(job, data, count);
  }
  void block_scales(std::size_t job, const uint8_t* codes, uint64_t count) override {
    executor_.quantized_block_scales(job, codes, count);
  }
  void end_tensor(std::size_t job) override { executor_.end_quantized(job); }
  void source_read(std::size_t job, uint64_t offset, uint64_t length) override {
    executor_.quantized_source_read(job, offset, length);
  }

 private:
  PlanExecutor& executor_;
};

void PlanExecutor::quantize_run(std::size_t begin, std::size_t end) {
  run_tensors_.clear();
  run_outputs_.clear();
  run_formats_.clear();
  std::vector<QuantizeJob> jobs;
  for (std::size_t i = begin; i < end; ++i) {
    const OutputTensorPlan& output = plan_.outputs[i];
    const TensorInfo& tensor = source_of(output);
    run_tensors_.push_back(&tensor);
    run_outputs_.push_back(&output.name);
    run_formats_.push_back(output.format);
    QuantizeJob job;
    job.name = tensor.name;
    job.dtype = tensor.dtype;
    job.source = input_.bytes(tensor).data;
    job.numel = tensor.numel;
    job.format = output.format;
    if (tensor.shape.size() == 2) {
      job.rows = tensor.shape[0];
      job.cols = tensor.shape[1];
    }
    jobs.push_back(job);
  }
  if (!run_tensors_.empty()) input_.prefetch(*run_tensors_.front());
  ExecutorConsumer consumer(*this);
  // The backend's own time: the whole run less the writes made from its callbacks.
  const double write_before = stages_.write;
  {
    const StageTimer timer(stages_.backend);
    backend_.run(jobs, consumer);
  }
  stages_.backend -= stages_.write - write_before;
}

/// The file holding `tensor`, for an error that names only the tensor.
std::string file_of(const TensorSource& input, const std::string& tensor) {
  const TensorInfo* found = input.find(tensor);
  return found == nullptr ? input.label() : input.shard(input.shard_of(*found)).path();
}

}  // namespace

ConvertSummary execute_plan(const TensorSource& input, const ConversionPlan& plan,
                            QuantizeBackend& backend, ByteSink& sink, ProgressMeter* progress) {
  const auto start = std::chrono::steady_clock::now();
  PlanExecutor executor(input, plan, backend, sink, progress);
  try {
    executor.run();
  } catch (const Error& error) {
    // Backend errors name the tensor only; the user also needs to know which file.
    if (!error.file().empty()) throw;
    throw Error(error.code(), file_of(input, error.tensor()), error.tensor(), error.detail());
  }
  if (progress) progress->finish();
  const StageSeconds& stages = executor.stages();
  log_debug("time by stage: backend {:.2f} s (absmax, cast), writing its output {:.2f} s, "
                "copying kept tensors {:.2f} s, fsync and publish {:.2f} s",
                stages.backend, stages.write, stages.copy, stages.finish);
  ConvertSummary summary;
  summary.quantized = plan.quantized_count;
  summary.kept = plan.kept_count;
  summary.input_bytes = input.total_bytes();
  summary.output_bytes = plan.layout.file_size();
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.backend = backend.description();
  return summary;
}

ConvertSummary execute_plan(const SafetensorsFile& input, const ConversionPlan& plan,
                            QuantizeBackend& backend, ByteSink& sink, ProgressMeter* progress) {
  return execute_plan(TensorSource::borrow(input), plan, backend, sink, progress);
}

ConvertSummary convert_to_file(const TensorSource& input, const ConversionPlan& plan,
                               QuantizeBackend& backend, const std::string& output_path,
                               const OutputOptions& output, ProgressMeter* progress) {
  AtomicFileOptions options;
  options.overwrite = output.overwrite;
  AtomicFileSink sink(output_path, options);
  const std::unique_ptr<ByteSink> staged = output.stage ? output.stage(sink) : nullptr;
  // The writes go to a thread of their own, so that the backend computes the next chunk
  // while the last one is copied into the page cache (the stage, if any, runs there too).
  BackgroundWriteSink background(staged ? *staged : sink);
  return execute_plan(input, plan, backend, background, progress);
}

ConvertSummary convert_to_file(const SafetensorsFile& input, const ConversionPlan& plan,
                               QuantizeBackend& backend, const std::string& output_path,
                               const OutputOptions& output, ProgressMeter* progress) {
  return convert_to_file(TensorSource::borrow(input), plan, backend, output_path, output,
                         progress);
}

std::string format_summary(const ConvertSummary& summary) {
  return transfer_text(summary.input_bytes, summary.output_bytes, summary.seconds) + ", " +
         std::to_string(summary.quantized) + " quantized, " + std::to_string(summary.kept) +
         " kept on " + summary.backend;
}

}  // namespace qfp8
