// backend_cpu.cpp — the multi-threaded CPU backend: per tensor a parallel integer absmax,
// the Inf/NaN check, the per-tensor scale, then a parallel cast into a reusable buffer that
// is handed to the consumer in order (block formats: whole rows at a time, each block's
// scale code into the tensor's blocked scales, handed over after the data). Both passes go through the source in slices of at most
// kSourceSliceBytes, each reported read once done, so a 100 MB tensor is never all mapped
// at once. Every element's code depends only on that element and the scale, so the bytes
// are the same for any thread count and any slicing.
#include <algorithm>
#include <string>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "backends/cpu/cpu_backend_options.hpp"
#include "backends/cpu/cpu_cast.hpp"
#include "backends/cpu/cpu_thread_pool.hpp"
#include "core/cpu_count.hpp"
#include "core/element_traits.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/block_formats.hpp"
#include "core/quantize_reference.hpp"

namespace qfp8 {
namespace {

// Below ~64 Ki elements per task, waking a thread costs more than the work it takes over.
constexpr uint64_t kMinElementsPerTask = uint64_t{1} << 16;
// Task boundaries on multiples of 64 elements keep each output cache line in one task.
constexpr uint64_t kTaskAlignment = 64;

class CpuBackend final : public QuantizeBackend {
 public:
  explicit CpuBackend(const CpuBackendOptions& options)
      : options_(options),
        pool_(resolve_thread_count(options.threads), options.thread_starter),
        table_(kCodeTableSize) {
    if (options_.max_chunk_bytes == 0) options_.max_chunk_bytes = 1;
  }

  bool supports(QuantFormat) const override { return true; }

  std::string description() const override {
    const unsigned threads = pool_.size();
    return "cpu (" + std::to_string(threads) + (threads == 1 ? " thread)" : " threads)");
  }

  void run(const std::vector<QuantizeJob>& jobs, QuantizedConsumer& consumer) override {
    for (std::size_t index = 0; index < jobs.size(); ++index) {
      run_job(index, jobs[index], consumer);
    }
  }

 private:
  void run_job(std::size_t index, const QuantizeJob& job, QuantizedConsumer& consumer) {
    if (!is_float_source(job.dtype)) {
      throw unsupported_source_error(job.dtype, job.name);
    }
    const uint64_t slice = slice_elements(job);
    uint32_t amax_bits = 0;
    for (uint64_t first = 0; first < job.numel; first += slice) {
      const uint64_t count = std::min(slice, job.numel - first);
      amax_bits = std::max(amax_bits, parallel_absmax(job, first, count));
      report_read(consumer, index, job, first, count);
    }
    if (magnitude_is_nonfinite(job.dtype, amax_bits)) {
      throw Error(ErrorCode::NonFiniteWeight, "", job.name,
                  "contains Inf or NaN (a tensor with non-finite values cannot be "
                  "scaled)");
    }
    const float scale = tensor_scale_reference(job.format, job.dtype, amax_bits);
    if (has_block_scales(job.format)) return run_block_job(index, job, scale, consumer);
    const bool use_table = job.dtype != Dtype::F32 && job.numel > options_.table_min_numel;
    if (use_table) build_code_table(job.format, job.dtype, scale, amax_bits, table_.data());

    consumer.begin_tensor(index, scale);
    const uint64_t chunk = std::min({job.numel, options_.max_chunk_bytes, slice});
    if (buffer_.size() < chunk) buffer_.resize(chunk);
    for (uint64_t first = 0; first < job.numel; first += chunk) {
      const uint64_t count = std::min(chunk, job.numel - first);
      parallel_cast(job, first, count, scale, use_table);
      consumer.tensor_bytes(index, buffer_.data(), count);
      report_read(consumer, index, job, first, count);
    }
    consumer.end_tensor(index);
  }

  // Block formats: rows in pieces of about one source slice; each task quantizes whole rows,
  // writing its data bytes and its blocks' codes (distinct bytes of the blocked scales).
  void run_block_job(std::size_t index, const QuantizeJob& job, float tensor_scale,
                     QuantizedConsumer& consumer) {
    const auto scale_dims = block_scale_shape(job.format, job.rows, job.cols);
    block_scales_.assign(scale_dims[0] * scale_dims[1], 0);
    const uint64_t row_bytes = data_shape(job.format, 1, job.cols)[1];
    const uint64_t rows_per_piece = std::max<uint64_t>(
        1, std::min(slice_elements(job) / job.cols, options_.max_chunk_bytes / row_bytes));
    if (buffer_.size() < rows_per_piece * row_bytes) buffer_.resize(rows_per_piece * row_bytes);
    consumer.begin_tensor(index, job.format == QuantFormat::Mxfp8 ? 0.0f : tensor_scale);
    for (uint64_t first = 0; first < job.rows; first += rows_per_piece) {
      const uint64_t rows = std::min(rows_per_piece, job.rows - first);
      const auto tasks =
          static_cast<unsigned>(std::min<uint64_t>(task_count(rows * job.cols), rows));
      pool_.parallel_for(tasks, [&](unsigned task) {
        const uint64_t begin = rows * task / tasks;
        const uint64_t end = rows * (task + 1) / tasks;
        quantize_block_rows(job.format, job.dtype, job.source, job.cols, first + begin,
                            end - begin, tensor_scale, buffer_.data() + begin * row_bytes,
                            block_scales_.data(), scale_dims[1]);
      });
      consumer.tensor_bytes(index, buffer_.data(), rows * row_bytes);
      report_read(consumer, index, job, first * job.cols, rows * job.cols);
    }
    consumer.block_scales(index, block_scales_.data(), block_scales_.size());
    consumer.end_tensor(index);
  }

  // Elements per source slice; at least one so that every loop advances.
  static uint64_t slice_elements(const QuantizeJob& job) {
    return std::max<uint64_t>(1, kSourceSliceBytes / dtype_size(job.dtype));
  }

  static void report_read(QuantizedConsumer& consumer, std::size_t index, const QuantizeJob& job,
                          uint64_t first, uint64_t count) {
    const std::size_t element_size = dtype_size(job.dtype);
    consumer.source_read(index, first * element_size, count * element_size);
  }

  // Integer max of elements [first, first + count), per task, combined with max: the same
  // for any split.
  uint32_t parallel_absmax(const QuantizeJob& job, uint64_t first, uint64_t count) {
    const std::size_t element_size = dtype_size(job.dtype);
    const uint8_t* source = job.source + first * element_size;
    const unsigned tasks = task_count(count);
    std::vector<uint32_t> partial(tasks, 0);
    pool_.parallel_for(tasks, [&](unsigned task) {
      const uint64_t begin = task_begin(count, tasks, task);
      const uint64_t end = task_begin(count, tasks, task + 1);
      partial[task] = absmax_magnitude_fast(job.dtype, source + begin * element_size, end - begin);
    });
    return *std::max_element(partial.begin(), partial.end());
  }

  // Casts elements [first, first + count) of the job into buffer_[0, count).
  void parallel_cast(const QuantizeJob& job, uint64_t first, uint64_t count, float scale,
                     bool use_table) {
    const std::size_t element_size = dtype_size(job.dtype);
    const uint8_t* source = job.source + first * element_size;
    const unsigned tasks = task_count(count);
    pool_.parallel_for(tasks, [&](unsigned task) {
      const uint64_t begin = task_begin(count, tasks, task);
      const uint64_t n = task_begin(count, tasks, task + 1) - begin;
      const uint8_t* from = source + begin * element_size;
      uint8_t* to = buffer_.data() + begin;
      if (use_table) {
        cast_with_table(table_.data(), from, n, to);
      } else {
        cast_direct(job.format, job.dtype, from, n, scale, to);
      }
    });
  }

  unsigned task_count(uint64_t numel) const {
    const uint64_t useful = std::max<uint64_t>(1, numel / kMinElementsPerTask);
    return static_cast<unsigned>(std::min<uint64_t>(pool_.size(), useful));
  }

  // Start of task `task` of `tasks` over `numel` elements; task_begin(.., tasks) == numel.
  static uint64_t task_begin(uint64_t numel, unsigned tasks, unsigned task) {
    if (task >= tasks) return numel;
    const uint64_t even = numel / tasks * task;
    return std::min(numel, even / kTaskAlignment * kTaskAlignment);
  }

  CpuBackendOptions options_;
  CpuThreadPool pool_;
  std::vector<uint8_t> table_;
  std::vector<uint8_t> buffer_;
  std::vector<uint8_t> block_scales_;  // the current block-format job's blocked scales
};

}  // namespace

std::unique_ptr<QuantizeBackend> make_cpu_backend(const CpuBackendOptions& options) {
  return std::make_unique<CpuBackend>(options);
}

std::unique_ptr<QuantizeBackend> make_cpu_backend(unsigned threads) {
  CpuBackendOptions options;
  options.threads = threads;
  return make_cpu_backend(options);
}

}  // namespace qfp8
