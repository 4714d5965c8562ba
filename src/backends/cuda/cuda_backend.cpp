// cuda_backend.cpp — the CUDA QuantizeBackend. Results go to the consumer strictly in job
// order; the work of neighbouring tensors overlaps:
//   0. StagingReader threads copy every job's source, chunk by chunk, out of the (mapped)
//      input into a ring of pinned slots, running ahead of everything below;
//   1. upload: each filled slot goes to the device with an async H2D copy on the upload
//      stream. A tensor lands whole in one of two device buffers (job i in buffer i % 2),
//      because the cast needs the absmax of all of it (largest Qwen-Image tensor: 113 MB
//      BF16). Tensor i+1's copies are issued while tensor i is delivered (step 3);
//   2. reduce on the compute stream: absmax kernel, scale kernel, 8 bytes back; the host
//      checks for Inf/NaN before anything reaches the consumer;
//   3. quantize kernel, then FP8 chunks D2H into a pinned download ring, handed to the
//      consumer as each arrives while the next ones are in flight.
// At the end of a run, one log line says where this thread waited (for the readers, the
// GPU, the writer) and how fast the readers copied: the slowest stage shows.
// Events guard every reuse: of an upload slot (a reader thread waits for its copy), of a
// device source buffer (tensor i+2's copies wait for tensor i's kernels), of a download
// slot. All waits are on the host or between the two streams, so the order of operations
// is visible in this file.

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "backends/cuda/cuda_backend.hpp"
#include "backends/cuda/cuda_resources.hpp"
#include "backends/cuda/staging_reader.hpp"
#include "core/cpu_count.hpp"
#include "core/block_formats.hpp"
#include "core/element_traits.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/quantize_reference.hpp"
#include "core/scoped_timer.hpp"
#include "core/text_format.hpp"
#include "kernels/absmax_kernel.cuh"
#include "kernels/block_quantize_kernel.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/quantize_kernel.cuh"

namespace qfp8 {
namespace {

int select_device(int device) {
  QFP8_CUDA_CHECK(cudaSetDevice(device));
  return device;
}

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Two device source buffers: tensor i+1 uploads while tensor i is reduced and cast.
constexpr std::size_t kSourceBuffers = 2;

class CudaBackend final : public QuantizeBackend {
 public:
  CudaBackend(int device, const CudaBackendOptions& options)
      : device_(select_device(device)),
        options_(resolved_cuda_options(options, default_thread_count())),
        description_("cuda:" + std::to_string(device) + " " + cuda_device_description(device)),
        upload_stream_(create_stream()),
        compute_stream_(create_stream()),
        device_stats_(allocate_device_bytes(sizeof(TensorStats))),
        host_stats_(allocate_pinned_bytes(sizeof(TensorStats))),
        stats_ready_(create_event(HostWait::Block)) {
    for (std::size_t buffer = 0; buffer < kSourceBuffers; ++buffer) {
      uploaded_.push_back(create_event());
      computed_.push_back(create_event());
    }
    for (unsigned slot = 0; slot < options_.slots; ++slot) {
      upload_done_.push_back(create_event(HostWait::Block));
      download_done_.push_back(create_event(HostWait::Block));
    }
    // Made here, not at the first run, so that a failure to pin is a failure to start
    // (--device auto then falls back to the CPU).
    reserve_staging(options_.largest_tensor_bytes != 0 ? options_.largest_tensor_bytes
                                                       : options_.staging_bytes);
  }

  ~CudaBackend() override { quiesce(); }

  std::string description() const override { return description_; }
  bool supports(QuantFormat format) const override { return cuda_backend_supports(format); }

  void run(const std::vector<QuantizeJob>& jobs, QuantizedConsumer& consumer) override {
    // run() may be called from another thread. The caller's current device is not restored
    // afterwards: a thread that never chose one reads as device 0, and setting device 0
    // back would create a context on GPU 0 (hundreds of MiB) for a --gpu 1 conversion.
    QFP8_CUDA_CHECK(cudaSetDevice(device_));
    // A launch is checked with cudaGetLastError(), which would also report a non-sticky
    // error left on this thread by an unchecked call made before (a destructor's free):
    // drop it here, so it is not blamed on our first kernel. A sticky one fails the next
    // call anyway.
    (void)cudaGetLastError();
    try {
      reserve_device_buffers(jobs);
      uint64_t largest_staged = 0;
      for (const auto& job : jobs) largest_staged = std::max(largest_staged, staged_bytes(job));
      reserve_staging(largest_staged);
      std::vector<uint8_t*> slots;
      for (const auto& slot : upload_ring_) slots.push_back(slot.get());
      // A new reader fills every slot once without WaitSlotFree. That is safe because no
      // upload of an earlier run is in flight: each job's reduce() waited for its uploads,
      // and a failed run quiesce()d.
      StagingReader reader(slots, slot_bytes_, jobs, [this](std::size_t slot) {
        // On a reader thread, whose current device is its own to set. The main thread
        // records upload_done_[slot] before it releases the slot and not again until this
        // reader has refilled it, so a record never races this wait.
        QFP8_CUDA_CHECK(cudaSetDevice(device_));
        QFP8_CUDA_CHECK(cudaEventSynchronize(upload_done_[slot].get()));
      }, options_.reader_threads);
      Run run{jobs, reader, consumer, std::vector<char>(jobs.size(), 0), {}};
      double seconds = 0;
      {
        const ScopedTimer timer(seconds);
        for (std::size_t index = 0; index < jobs.size(); ++index) process(run, index);
      }
      log_breakdown(run, seconds, reader.totals());
    } catch (...) {
      // The reader threads have stopped (the reader's destructor joined them); now leave
      // no copy in flight into a pinned slot or buffer we might reuse or free.
      quiesce();
      throw;
    }
  }

 private:
  /// Where run()'s thread waited, in seconds: the stage it waits for most is the one that
  /// limits a conversion.
  struct Waits {
    double reader = 0;    // for the reader threads to stage the next chunk
    double gpu = 0;       // for the stats word and the FP8 downloads
    double consumer = 0;  // in the consumer (the writer)
  };

  /// One call of run(): the jobs, where their uploads stand, and who gets the results.
  struct Run {
    const std::vector<QuantizeJob>& jobs;
    StagingReader& reader;
    QuantizedConsumer& consumer;
    std::vector<char> uploaded;  // per job: every H2D copy issued
    Waits waits;
  };

  void log_breakdown(const Run& run, double seconds, const StagingReader::Totals& reader) const {
    const double gb = static_cast<double>(reader.bytes) / 1e9;
    log_info(
        "{}: {} tensors, {} in {:.2f} s ({:.2f} GB/s); waited {:.2f} s for the readers ({} "
        "thread(s), each copied at {:.2f} GB/s; together they waited {:.2f} s for free slots), "
        "{:.2f} s for the GPU, {:.2f} s in the writer",
        description_, run.jobs.size(), size_text(reader.bytes), seconds,
        seconds > 0 ? gb / seconds : 0.0, run.waits.reader, reader.threads,
        reader.copy_seconds > 0 ? gb / reader.copy_seconds : 0.0, reader.slot_wait_seconds,
        run.waits.gpu, run.waits.consumer);
  }

  void process(Run& run, std::size_t index) {
    const QuantizeJob& job = run.jobs[index];
    if (!is_float_source(job.dtype)) {
      throw unsupported_source_error(job.dtype, job.name);
    }
    const std::size_t buffer = index % kSourceBuffers;
    upload_rest(run, index);
    QFP8_CUDA_CHECK(cudaEventRecord(uploaded_[buffer].get(), upload_stream_.get()));
    QFP8_CUDA_CHECK(cudaStreamWaitEvent(compute_stream_.get(), uploaded_[buffer].get(), 0));
    const TensorStats stats = reduce(job, buffer, run.waits);
    // Same words as the CPU backend: the user sees one message whichever backend ran.
    if (magnitude_is_nonfinite(job.dtype, stats.amax_magnitude)) {
      throw Error(ErrorCode::NonFiniteWeight, "", job.name,
                  "contains Inf or NaN (a tensor with non-finite values cannot be "
                  "scaled)");
    }
    {
      const ScopedTimer timer(run.waits.consumer);
      run.consumer.begin_tensor(index, has_tensor_scale(job.format) ? stats.scale : 0.0f);
    }
    quantize_and_deliver(run, index, buffer);
    {
      const ScopedTimer timer(run.waits.consumer);
      run.consumer.end_tensor(index);
    }
  }

  /// Issues the H2D copy of one staged chunk into its job's device buffer and hands the
  /// slot back to the reader, which waits for the copy's event before refilling it.
  void issue_upload(Run& run, const StagedChunk& chunk) {
    const std::size_t buffer = chunk.job % kSourceBuffers;
    cudaStream_t stream = upload_stream_.get();
    // The buffer's previous tensor (job - 2) must be done with it: its kernels were
    // launched, and computed_ recorded, before this job's first chunk was taken.
    if (chunk.offset == 0) {
      QFP8_CUDA_CHECK(cudaStreamWaitEvent(stream, computed_[buffer].get(), 0));
    }
    QFP8_CUDA_CHECK(cudaMemcpyAsync(device_source_[buffer].get() + chunk.offset,
                                    upload_ring_[chunk.slot].get(), chunk.size,
                                    cudaMemcpyHostToDevice, stream));
    QFP8_CUDA_CHECK(cudaEventRecord(upload_done_[chunk.slot].get(), stream));
    run.reader.release(chunk.slot);
    // The reader copied these bytes out of the map and never reads them again.
    run.consumer.source_read(chunk.job, chunk.offset, chunk.size);
    if (chunk.last_of_job) run.uploaded[chunk.job] = 1;
  }

  /// Issues every copy of job `index` not issued yet, waiting for the reader as needed.
  void upload_rest(Run& run, std::size_t index) {
    if (staged_bytes(run.jobs[index]) == 0) run.uploaded[index] = 1;
    while (!run.uploaded[index]) {
      std::optional<StagedChunk> chunk;
      {
        const ScopedTimer timer(run.waits.reader);
        chunk = run.reader.take();
      }
      if (!chunk || chunk->job != index) {
        throw Error(ErrorCode::Internal, "", run.jobs[index].name,
                    "cannot upload: staged chunks out of job order");
      }
      issue_upload(run, *chunk);
    }
  }

  /// Issues the copies of job `index` that the reader has already staged; never waits.
  void upload_ahead(Run& run, std::size_t index) {
    if (index >= run.jobs.size()) return;
    while (!run.uploaded[index]) {
      const std::optional<StagedChunk> chunk = run.reader.try_take(index);
      if (!chunk) return;
      issue_upload(run, *chunk);
    }
  }

  /// The pinned upload and download rings, their slots as large as the largest tensor's
  /// source, at most options_.staging_bytes (16-byte multiples): a 12 MB checkpoint pins
  /// a few MiB, not the 256 MiB of full-size slots, which take time to pin and stay
  /// resident. Called when no copy is in flight (at the start and at the start of a run);
  /// the rings only grow (a batch's later, larger model), and each growth is logged.
  void reserve_staging(uint64_t largest_tensor_bytes) {
    const uint64_t largest = std::max<uint64_t>(16, largest_tensor_bytes);
    const uint64_t wanted = std::min(options_.staging_bytes, (largest + 15) / 16 * 16);
    if (wanted <= slot_bytes_) return;
    // Free before allocating so the old and new rings never coexist.
    upload_ring_.clear();
    download_ring_.clear();
    slot_bytes_ = 0;
    for (unsigned slot = 0; slot < options_.slots; ++slot) {
      upload_ring_.push_back(allocate_pinned_bytes(wanted));
      download_ring_.push_back(allocate_pinned_bytes(wanted));
    }
    slot_bytes_ = wanted;
    log_info(
        "{}: {:.1f} MiB pinned staging (upload and download rings of {} x {:.1f} MiB), {} "
        "reader thread(s)",
        description_, mib(2 * options_.slots * slot_bytes_), options_.slots, mib(slot_bytes_),
        options_.reader_threads);
  }

  /// Device buffers sized for the largest job; they only grow, and each growth is logged.
  void reserve_device_buffers(const std::vector<QuantizeJob>& jobs) {
    uint64_t largest_source = 0;
    uint64_t largest_fp8 = 0;
    uint64_t largest_scales = 0;
    for (const auto& job : jobs) {
      largest_source = std::max(largest_source, staged_bytes(job));
      if (staged_bytes(job) != 0) largest_fp8 = std::max(largest_fp8, job.numel);
      largest_scales = std::max(largest_scales, block_scale_bytes(job));
    }
    if (largest_scales > block_scales_capacity_) {
      device_block_scales_.reset();
      device_block_scales_ = allocate_device_bytes(largest_scales);
      block_scales_capacity_ = largest_scales;
    }
    if (largest_source <= source_capacity_ && largest_fp8 <= fp8_capacity_) return;
    source_capacity_ = std::max(largest_source, source_capacity_);
    fp8_capacity_ = std::max(largest_fp8, fp8_capacity_);
    // Free before allocating so the old and new buffers never coexist.
    device_source_.clear();
    device_fp8_.reset();
    const uint64_t total = kSourceBuffers * source_capacity_ + fp8_capacity_;
    try {
      for (std::size_t buffer = 0; buffer < kSourceBuffers; ++buffer) {
        device_source_.push_back(allocate_device_bytes(source_capacity_));
      }
      device_fp8_ = allocate_device_bytes(fp8_capacity_);
    } catch (const Error& error) {
      source_capacity_ = fp8_capacity_ = 0;
      device_source_.clear();
      throw Error(ErrorCode::CudaFailure,
                  fmt::format("cannot allocate {:.1f} MiB on {} for the largest tensor: {}",
                              mib(total), description_, error.detail()));
    }
    log_info(
        "{}: {:.1f} MiB device memory for tensors ({} x {:.1f} MiB source, {:.1f} MiB "
        "FP8)",
        description_, mib(total), kSourceBuffers, mib(source_capacity_), mib(fp8_capacity_));
  }

  /// Device source buffer `buffer`; null while none is allocated (every job so far was
  /// empty), which the launchers never dereference for 0 elements.
  const uint8_t* source_buffer(std::size_t buffer) const {
    return buffer < device_source_.size() ? device_source_[buffer].get() : nullptr;
  }

  TensorStats reduce(const QuantizeJob& job, std::size_t buffer, Waits& waits) {
    cudaStream_t stream = compute_stream_.get();
    auto* stats = reinterpret_cast<TensorStats*>(device_stats_.get());
    QFP8_CUDA_CHECK(cudaMemsetAsync(stats, 0, sizeof(TensorStats), stream));
    launch_absmax_magnitude(job.dtype, source_buffer(buffer), job.numel, &stats->amax_magnitude,
                            stream);
    launch_scale_from_amax(job.format, job.dtype, &stats->amax_magnitude, &stats->scale, stream);
    QFP8_CUDA_CHECK(cudaMemcpyAsync(host_stats_.get(), stats, sizeof(TensorStats),
                                    cudaMemcpyDeviceToHost, stream));
    QFP8_CUDA_CHECK(cudaEventRecord(stats_ready_.get(), stream));
    {
      const ScopedTimer timer(waits.gpu);
      QFP8_CUDA_CHECK(cudaEventSynchronize(stats_ready_.get()));
    }
    TensorStats result;
    std::memcpy(&result, host_stats_.get(), sizeof result);
    return result;
  }

  void quantize_and_deliver(Run& run, std::size_t index, std::size_t buffer) {
    const QuantizeJob& job = run.jobs[index];
    cudaStream_t stream = compute_stream_.get();
    const auto* stats = reinterpret_cast<const TensorStats*>(device_stats_.get());
    const bool blocks = has_block_scales(job.format);
    if (blocks) {
      // The padding of the blocked scales stays zero: the kernel writes only real blocks.
      QFP8_CUDA_CHECK(cudaMemsetAsync(device_block_scales_.get(), 0, block_scale_bytes(job), stream));
      launch_quantize_blocks(job.format, job.dtype, source_buffer(buffer), job.rows, job.cols,
                             &stats->scale, device_fp8_.get(), device_block_scales_.get(),
                             block_scale_shape(job.format, job.rows, job.cols)[1], stream);
    } else {
      launch_quantize(job.format, job.dtype, source_buffer(buffer), job.numel, &stats->scale,
                      device_fp8_.get(), stream);
    }
    // From here on the compute stream no longer reads this source buffer: the tensor two
    // jobs later may upload into it once this event has passed.
    QFP8_CUDA_CHECK(cudaEventRecord(computed_[buffer].get(), stream));
    upload_ahead(run, index + 1);
    // An empty tensor gets no tensor_bytes call, as from the CPU backend.
    if (job.numel == 0) return;
    download(run, index, device_fp8_.get(), data_bytes(job), [&](const uint8_t* bytes, uint64_t count) {
      run.consumer.tensor_bytes(index, bytes, count);
    });
    if (!blocks) return;
    block_scales_host_.clear();
    download(run, index, device_block_scales_.get(), block_scale_bytes(job),
             [&](const uint8_t* bytes, uint64_t count) {
               block_scales_host_.insert(block_scales_host_.end(), bytes, bytes + count);
             });
    const ScopedTimer timer(run.waits.consumer);
    run.consumer.block_scales(index, block_scales_host_.data(), block_scales_host_.size());
  }

  /// Copies `bytes` device bytes at `device` to the host through the download ring, `slots`
  /// chunks in flight, and hands each chunk to `deliver` in order.
  template <class Deliver>
  void download(Run& run, std::size_t index, const uint8_t* device, uint64_t bytes,
                Deliver&& deliver) {
    cudaStream_t stream = compute_stream_.get();
    const uint64_t chunk = slot_bytes_;
    const uint64_t chunks = (bytes + chunk - 1) / chunk;
    auto enqueue = [&](uint64_t c) {
      const std::size_t slot = c % options_.slots;
      const uint64_t count = std::min(chunk, bytes - c * chunk);
      QFP8_CUDA_CHECK(cudaMemcpyAsync(download_ring_[slot].get(), device + c * chunk, count,
                                      cudaMemcpyDeviceToHost, stream));
      QFP8_CUDA_CHECK(cudaEventRecord(download_done_[slot].get(), stream));
    };
    for (uint64_t c = 0; c < std::min<uint64_t>(options_.slots, chunks); ++c) enqueue(c);
    for (uint64_t c = 0; c < chunks; ++c) {
      const std::size_t slot = c % options_.slots;
      {
        const ScopedTimer timer(run.waits.gpu);
        QFP8_CUDA_CHECK(cudaEventSynchronize(download_done_[slot].get()));
      }
      {
        const ScopedTimer timer(run.waits.consumer);
        deliver(download_ring_[slot].get(), std::min(chunk, bytes - c * chunk));
      }
      // The consumer is done with this slot: refill it with the chunk `slots` ahead.
      if (c + options_.slots < chunks) enqueue(c + options_.slots);
      // While the writer was busy, the reader staged more of the next tensor.
      upload_ahead(run, index + 1);
    }
  }

  /// Bytes of a job's quantized data: one per element, nvfp4 one per two.
  static uint64_t data_bytes(const QuantizeJob& job) {
    return job.format == QuantFormat::Nvfp4 ? job.numel / 2 : job.numel;
  }

  /// Bytes of a block-format job's blocked scales (padding included); 0 for the others.
  static uint64_t block_scale_bytes(const QuantizeJob& job) {
    if (!has_block_scales(job.format)) return 0;
    const auto shape = block_scale_shape(job.format, job.rows, job.cols);
    return shape[0] * shape[1];
  }

  /// Waits for both streams; errors are dropped (this runs on error paths and in the
  /// destructor) and a non-sticky one cleared so it does not resurface as someone else's
  /// failure (a sticky one, a device fault, stays: the context is unusable).
  void quiesce() noexcept {
    (void)cudaSetDevice(device_);  // the destructor may run on another thread
    if (upload_stream_) (void)cudaStreamSynchronize(upload_stream_.get());
    if (compute_stream_) (void)cudaStreamSynchronize(compute_stream_.get());
    (void)cudaGetLastError();
  }

  int device_;
  CudaBackendOptions options_;
  std::string description_;
  Stream upload_stream_;
  Stream compute_stream_;
  std::vector<Event> uploaded_;  // per source buffer: its tensor's copies are done
  std::vector<Event> computed_;  // per source buffer: its tensor's kernels are done with it
  DeviceBytes device_stats_;
  PinnedBytes host_stats_;
  Event stats_ready_;  // the stats word has reached host_stats_
  std::vector<PinnedBytes> upload_ring_;
  std::vector<Event> upload_done_;
  std::vector<PinnedBytes> download_ring_;
  uint64_t slot_bytes_ = 0;  // of each ring slot; 0 while the rings are being remade
  std::vector<Event> download_done_;
  std::vector<DeviceBytes> device_source_;  // kSourceBuffers, job i in i % kSourceBuffers
  DeviceBytes device_fp8_;
  DeviceBytes device_block_scales_;  // the blocked scales of a block-format job
  std::vector<uint8_t> block_scales_host_;
  uint64_t source_capacity_ = 0;
  uint64_t fp8_capacity_ = 0;
  uint64_t block_scales_capacity_ = 0;
};

}  // namespace

CudaBackendOptions resolved_cuda_options(CudaBackendOptions options, unsigned hardware_threads) {
  // Multiples of 16 keep every chunk's device offset 16-byte aligned for vector loads.
  options.staging_bytes = std::max<uint64_t>(16, options.staging_bytes / 16 * 16);
  // run()'s thread (transfers, kernels, the writer) needs a core of its own. At most three
  // by default: one reader copies at one core's memcpy rate, and on the H200 host of
  // docs/benchmarks.md#staging-readers conversions were writer-bound with the readers idle,
  // 6 readers no faster than 3; more only add pinned memory.
  if (options.reader_threads == 0) {
    options.reader_threads = std::clamp(hardware_threads / 2, 1u, 3u);
  }
  options.reader_threads = std::clamp(options.reader_threads, 1u, 7u);
  options.slots = std::clamp(std::max(options.slots, options.reader_threads + 1), 2u, 8u);
  return options;
}

std::unique_ptr<QuantizeBackend> make_cuda_backend(int device) {
  return make_cuda_backend(device, CudaBackendOptions{});
}

std::unique_ptr<QuantizeBackend> make_cuda_backend(int device, const CudaBackendOptions& options) {
  const int count = cuda_usable_device_count();
  if (count == 0) {
    throw Error(ErrorCode::CudaUnavailable,
                "cannot use the GPU: no CUDA device is usable (no driver or no GPU)");
  }
  if (device < 0 || device >= count) {
    throw Error(ErrorCode::CudaUnavailable, "cannot use CUDA device " + std::to_string(device) +
                                                ": devices are numbered 0 to " +
                                                std::to_string(count - 1));
  }
  return std::make_unique<CudaBackend>(device, options);
}

bool cuda_backend_supports(QuantFormat) noexcept { return true; }

}  // namespace qfp8
