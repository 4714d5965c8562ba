// cuda_backend.cu — the CUDA QuantizeBackend. Per tensor, strictly in job order:
//   1. upload: host memcpy of a chunk from the (mapped) source into a pinned slot, then an
//      async H2D copy on the upload stream; the ring of slots lets the memcpy of chunk i+1
//      overlap the DMA of chunk i. The whole tensor lands in one device buffer, because
//      the cast needs the absmax of all of it (largest Qwen-Image tensor: 113 MB BF16).
//   2. reduce on the compute stream: absmax kernel, scale kernel, 8 bytes back; the host
//      checks for Inf/NaN before anything reaches the consumer.
//   3. quantize kernel, then FP8 chunks D2H into a pinned ring, handed to the consumer as
//      each arrives while the next ones are in flight.
// Events guard every pinned slot's reuse; all waits are on the host (cudaEvent/Stream
// synchronize), so the order of operations is visible in this file.
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absmax_kernel.cuh"
#include "convert/quantize_reference.hpp"
#include "core/error.hpp"
#include "cuda_backend.hpp"
#include "cuda_check.cuh"
#include "cuda_resources.cuh"
#include "quantize_kernel.cuh"

namespace qfp8 {
namespace {

int select_device(int device) {
  QFP8_CUDA_CHECK(cudaSetDevice(device));
  return device;
}

CudaBackendOptions normalized(CudaBackendOptions options) {
  // Multiples of 16 keep every chunk's device offset 16-byte aligned for vector loads.
  options.staging_bytes = std::max<uint64_t>(16, options.staging_bytes / 16 * 16);
  options.slots = std::clamp(options.slots, 2u, 8u);
  return options;
}

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

class CudaBackend final : public QuantizeBackend {
 public:
  CudaBackend(int device, const CudaBackendOptions& options)
      : device_(select_device(device)),
        options_(normalized(options)),
        description_("cuda:" + std::to_string(device) + " " + cuda_device_description(device)),
        upload_stream_(create_stream()),
        compute_stream_(create_stream()),
        uploaded_(create_event()),
        device_stats_(allocate_device_bytes(sizeof(TensorStats))),
        host_stats_(allocate_pinned_bytes(sizeof(TensorStats))) {
    for (unsigned slot = 0; slot < options_.slots; ++slot) {
      upload_ring_.push_back(allocate_pinned_bytes(options_.staging_bytes));
      upload_done_.push_back(create_event());
      download_ring_.push_back(allocate_pinned_bytes(options_.staging_bytes));
      download_done_.push_back(create_event());
    }
    spdlog::info("{}: {:.1f} MiB pinned staging (upload and download rings of {} x {:.1f} MiB)",
                 description_, mib(2 * options_.slots * options_.staging_bytes), options_.slots,
                 mib(options_.staging_bytes));
  }

  ~CudaBackend() override { quiesce(); }

  std::string description() const override { return description_; }

  void run(const std::vector<QuantizeJob>& jobs, QuantizedConsumer& consumer) override {
    QFP8_CUDA_CHECK(cudaSetDevice(device_));  // run() may be called from another thread
    try {
      reserve_device_buffers(jobs);
      for (std::size_t index = 0; index < jobs.size(); ++index) {
        process(index, jobs[index], consumer);
      }
    } catch (...) {
      // Leave no copy in flight into a pinned slot or buffer we might reuse or free.
      quiesce();
      throw;
    }
  }

 private:
  void process(std::size_t index, const QuantizeJob& job, QuantizedConsumer& consumer) {
    if (!is_float_source(job.dtype)) {
      throw Error(ErrorCode::InvalidPlan, "", job.name,
                  "cannot quantize a " + std::string(dtype_name(job.dtype)) +
                      " tensor: only F16, BF16 and F32 sources are supported");
    }
    upload(index, job, consumer);
    const TensorStats stats = reduce(job);
    // Same words as the CPU backend: the user sees one message whichever backend ran.
    if (magnitude_is_nonfinite(job.dtype, stats.amax_magnitude)) {
      throw Error(ErrorCode::NonFiniteWeight, "", job.name,
                  "contains Inf or NaN (spec §3: a tensor with non-finite values cannot be "
                  "scaled)");
    }
    consumer.begin_tensor(index, stats.scale);
    quantize_and_deliver(index, job, consumer);
    consumer.end_tensor(index);
  }

  /// Device buffers sized for the largest job; they only grow, and each growth is logged.
  void reserve_device_buffers(const std::vector<QuantizeJob>& jobs) {
    uint64_t source_bytes = 0;
    uint64_t fp8_bytes = 0;
    for (const auto& job : jobs) {
      source_bytes = std::max(source_bytes, job.numel * dtype_size(job.dtype));
      fp8_bytes = std::max(fp8_bytes, job.numel);
    }
    if (source_bytes <= source_capacity_ && fp8_bytes <= fp8_capacity_) return;
    source_capacity_ = std::max(source_bytes, source_capacity_);
    fp8_capacity_ = std::max(fp8_bytes, fp8_capacity_);
    // Free before allocating so the old and new buffers never coexist.
    device_source_.reset();
    device_fp8_.reset();
    try {
      device_source_ = allocate_device_bytes(source_capacity_);
      device_fp8_ = allocate_device_bytes(fp8_capacity_);
    } catch (const Error& error) {
      source_capacity_ = fp8_capacity_ = 0;
      device_source_.reset();
      throw Error(ErrorCode::CudaFailure,
                  fmt::format("cannot allocate {:.1f} MiB on {} for the largest tensor: {}",
                              mib(source_bytes + fp8_bytes), description_, error.detail()));
    }
    spdlog::info("{}: {:.1f} MiB device memory for tensors ({:.1f} MiB source, {:.1f} MiB FP8)",
                 description_, mib(source_capacity_ + fp8_capacity_), mib(source_capacity_),
                 mib(fp8_capacity_));
  }

  void upload(std::size_t job_index, const QuantizeJob& job, QuantizedConsumer& consumer) {
    const uint64_t bytes = job.numel * dtype_size(job.dtype);
    const uint64_t chunk = options_.staging_bytes;
    for (uint64_t offset = 0, index = 0; offset < bytes; offset += chunk, ++index) {
      const uint64_t count = std::min(chunk, bytes - offset);
      const std::size_t slot = index % options_.slots;
      // The slot's previous DMA must be done before its bytes are overwritten.
      QFP8_CUDA_CHECK(cudaEventSynchronize(upload_done_[slot].get()));
      std::memcpy(upload_ring_[slot].get(), job.source + offset, count);
      // The host never reads these source bytes again: their mapped pages may go.
      consumer.source_read(job_index, offset, count);
      QFP8_CUDA_CHECK(cudaMemcpyAsync(device_source_.get() + offset, upload_ring_[slot].get(),
                                      count, cudaMemcpyHostToDevice, upload_stream_.get()));
      QFP8_CUDA_CHECK(cudaEventRecord(upload_done_[slot].get(), upload_stream_.get()));
    }
    QFP8_CUDA_CHECK(cudaEventRecord(uploaded_.get(), upload_stream_.get()));
    QFP8_CUDA_CHECK(cudaStreamWaitEvent(compute_stream_.get(), uploaded_.get(), 0));
  }

  TensorStats reduce(const QuantizeJob& job) {
    cudaStream_t stream = compute_stream_.get();
    auto* stats = reinterpret_cast<TensorStats*>(device_stats_.get());
    QFP8_CUDA_CHECK(cudaMemsetAsync(stats, 0, sizeof(TensorStats), stream));
    launch_absmax_magnitude(job.dtype, device_source_.get(), job.numel, &stats->amax_magnitude,
                            stream);
    launch_scale_from_amax(job.dtype, &stats->amax_magnitude, &stats->scale, stream);
    QFP8_CUDA_CHECK(cudaMemcpyAsync(host_stats_.get(), stats, sizeof(TensorStats),
                                    cudaMemcpyDeviceToHost, stream));
    QFP8_CUDA_CHECK(cudaStreamSynchronize(stream));
    TensorStats result;
    std::memcpy(&result, host_stats_.get(), sizeof result);
    return result;
  }

  void quantize_and_deliver(std::size_t index, const QuantizeJob& job,
                            QuantizedConsumer& consumer) {
    cudaStream_t stream = compute_stream_.get();
    const auto* stats = reinterpret_cast<const TensorStats*>(device_stats_.get());
    launch_quantize(job.dtype, device_source_.get(), job.numel, &stats->scale, device_fp8_.get(),
                    stream);
    // An empty tensor gets no tensor_bytes call, as from the CPU backend.
    if (job.numel == 0) return;
    const uint64_t chunk = options_.staging_bytes;
    const uint64_t chunks = (job.numel + chunk - 1) / chunk;
    auto enqueue = [&](uint64_t c) {
      const std::size_t slot = c % options_.slots;
      const uint64_t count = std::min(chunk, job.numel - c * chunk);
      QFP8_CUDA_CHECK(cudaMemcpyAsync(download_ring_[slot].get(), device_fp8_.get() + c * chunk,
                                      count, cudaMemcpyDeviceToHost, stream));
      QFP8_CUDA_CHECK(cudaEventRecord(download_done_[slot].get(), stream));
    };
    for (uint64_t c = 0; c < std::min<uint64_t>(options_.slots, chunks); ++c) enqueue(c);
    for (uint64_t c = 0; c < chunks; ++c) {
      const std::size_t slot = c % options_.slots;
      QFP8_CUDA_CHECK(cudaEventSynchronize(download_done_[slot].get()));
      consumer.tensor_bytes(index, download_ring_[slot].get(),
                            std::min(chunk, job.numel - c * chunk));
      // The consumer is done with this slot: refill it with the chunk `slots` ahead.
      if (c + options_.slots < chunks) enqueue(c + options_.slots);
    }
  }

  /// Waits for both streams; errors are dropped (this runs on error paths and in the
  /// destructor) and cleared so they do not resurface as someone else's failure.
  void quiesce() noexcept {
    if (upload_stream_) (void)cudaStreamSynchronize(upload_stream_.get());
    if (compute_stream_) (void)cudaStreamSynchronize(compute_stream_.get());
    (void)cudaGetLastError();
  }

  int device_;
  CudaBackendOptions options_;
  std::string description_;
  Stream upload_stream_;
  Stream compute_stream_;
  Event uploaded_;
  DeviceBytes device_stats_;
  PinnedBytes host_stats_;
  std::vector<PinnedBytes> upload_ring_;
  std::vector<Event> upload_done_;
  std::vector<PinnedBytes> download_ring_;
  std::vector<Event> download_done_;
  DeviceBytes device_source_;
  DeviceBytes device_fp8_;
  uint64_t source_capacity_ = 0;
  uint64_t fp8_capacity_ = 0;
};

}  // namespace

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
    throw Error(ErrorCode::CudaUnavailable,
                "cannot use CUDA device " + std::to_string(device) + ": devices are numbered 0 to " +
                    std::to_string(count - 1));
  }
  return std::make_unique<CudaBackend>(device, options);
}

}  // namespace qfp8
