// backend_cpu.cpp — the multi-threaded CPU backend: per tensor a parallel integer absmax,
// the Inf/NaN check, the scale, then a parallel cast into a reusable buffer that is handed
// to the consumer in order. Both passes go through the source in slices of at most
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
    const float scale = scale_from_amax(amax_from_magnitude(job.dtype, amax_bits));
    const bool use_table = job.dtype != Dtype::F32 && job.numel > options_.table_min_numel;
    if (use_table) build_code_table(job.dtype, scale, amax_bits, table_.data());

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
        cast_direct(job.dtype, from, n, scale, to);
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
