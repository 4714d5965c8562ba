// test_sim_backend.cpp — what a GPU run rarely shows, on the simulated runtime: every CUDA
// call of the backend failing in turn (an error, never a hang or a crash, and the backend
// still works afterwards), a fault that kills the context, device memory for Qwen-Image's
// largest tensor on an 8 GB card and a clear error on a smaller one, a second device used
// from other threads, no device at all, and the next tensor's upload overlapping the
// current tensor's delivery; pinned rings sized to the largest tensor; the per-run log line
// of where the time went.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "backends/cuda/cuda_backend.hpp"
#include "core/error.hpp"
#include "cuda_sim.hpp"
#include "kernels/absmax_kernel.cuh"
#include "kernels/quantize_kernel.cuh"
#include "support/backend_test_support.hpp"

using namespace qfp8;
using test::jobs_of;
using test::make_tensor;
using test::RecordingConsumer;
using test::require_reference_result;
using test::Tensor;

namespace {

constexpr uint64_t kStaging = 4096;

/// Three tensors of several staging chunks each, so every ring slot is reused.
std::vector<Tensor> three_tensors() {
  return {make_tensor("a", Dtype::BF16, 3 * kStaging / 2 + 7, 1),
          make_tensor("b", Dtype::F32, kStaging + 1, 2),
          make_tensor("c", Dtype::F16, 2 * kStaging, 3)};
}

void require_reference_results(const std::vector<Tensor>& tensors,
                               const RecordingConsumer& consumer) {
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    require_reference_result(tensors[k], consumer.results[k]);
  }
}

/// Runs `work` on a new thread whose current device is 0, and passes its exception on.
template <class Work>
void on_another_thread(Work work) {
  std::exception_ptr error;
  std::thread([&] {
    try {
      if (cudaSetDevice(0) != cudaSuccess) throw std::runtime_error("cudaSetDevice(0) failed");
      work();
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);
}

void require_clean_run(QuantizeBackend& backend, const std::vector<Tensor>& tensors) {
  RecordingConsumer consumer(tensors.size());
  backend.run(jobs_of(tensors), consumer);
  require_reference_results(tensors, consumer);
}

/// Runs the tensors; returns the error the run must fail with.
Error failed_run(QuantizeBackend& backend, const std::vector<Tensor>& tensors,
                 RecordingConsumer& consumer) {
  try {
    backend.run(jobs_of(tensors), consumer);
  } catch (const Error& error) {
    return error;
  }
  FAIL("the run succeeded although it should have failed");
  throw std::logic_error("unreachable: FAIL throws");
}

/// True when the error's message contains `text`.
bool says(const Error& error, const std::string& text) {
  return std::string(error.what()).find(text) != std::string::npos;
}

/// Makes the consumer sleep on the first FP8 chunk of every tensor, like a slow disk.
void slow_writer(RecordingConsumer& consumer, std::chrono::milliseconds per_tensor) {
  consumer.on_tensor_bytes = [&consumer, per_tensor](std::size_t job) {
    if (consumer.results[job].chunk_sizes.size() == 1) std::this_thread::sleep_for(per_tensor);
  };
}

/// Sends the default logger's info lines into a string while alive.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)));
    spdlog::set_level(spdlog::level::info);
  }
  ~CapturedLog() {
    spdlog::set_default_logger(previous_);
    spdlog::set_level(spdlog::level::warn);  // as sim_test_main.cpp sets it
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::string text() const { return text_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream text_;
};

/// No rule of the simulator broken since the last check; the broken ones are printed.
void require_no_violations() {
  const std::vector<std::string> violations = sim::take_violations();
  for (const std::string& violation : violations) UNSCOPED_INFO(violation);
  REQUIRE(violations.empty());
}

/// Makes the `nth` next call of `call` fail and checks that the run reports CudaFailure,
/// delivered only right results before it, and broke no rule on the way.
void require_failed_run(QuantizeBackend& backend, const std::vector<Tensor>& tensors,
                        const char* call, uint64_t nth) {
  sim::fail_call(call, nth, cudaErrorUnknown);
  RecordingConsumer consumer(tensors.size());
  const Error error = failed_run(backend, tensors, consumer);
  CHECK(error.code() == ErrorCode::CudaFailure);
  CHECK(says(error, "cudaErrorUnknown"));
  for (std::size_t k = 0; k < tensors.size() && consumer.results[k].ended; ++k) {
    require_reference_result(tensors[k], consumer.results[k]);
  }
  require_no_violations();
}

}  // namespace

TEST_CASE("each CUDA call of a run failing in turn gives CudaFailure, and the backend recovers",
          "[cuda-sim]") {
  const std::vector<Tensor> tensors = three_tensors();
  const std::vector<Tensor> larger_tensors{make_tensor("large", Dtype::F32, 4 * kStaging, 9)};
  // One reader thread, and three (whose calls from WaitSlotFree interleave).
  const CudaBackendOptions options = GENERATE(CudaBackendOptions{kStaging, 2, 1},
                                              CudaBackendOptions{kStaging, 4, 3});
  INFO(options.reader_threads << " reader thread(s)");
  auto backend = make_cuda_backend(0, options);
  for (const char* call : {"cudaMemcpyAsync", "cudaEventRecord", "cudaStreamWaitEvent",
                           "cudaEventSynchronize", "cudaMemsetAsync", "launch", "cudaSetDevice"}) {
    // How often a clean run makes this call (the reader thread's calls included).
    const uint64_t before = sim::calls(call);
    require_clean_run(*backend, tensors);
    const uint64_t per_run = sim::calls(call) - before;
    INFO(call << ": " << per_run << " calls per run");
    REQUIRE(per_run > 0);
    for (uint64_t nth = 1; nth <= per_run; ++nth) {
      INFO("failing call " << nth);
      require_failed_run(*backend, tensors, call, nth);
      // Larger tensors: the device buffers are freed and reallocated, which must find no
      // copy or kernel of the failed run still queued on them.
      require_clean_run(*backend, larger_tensors);
      // Destroyed right after a failure: nothing may still be queued on what it frees.
      require_failed_run(*backend, tensors, call, nth);
      backend.reset();
      require_no_violations();
      backend = make_cuda_backend(0, options);
    }
  }
}

TEST_CASE("a failing device allocation is CudaFailure naming the size, and not sticky",
          "[cuda-sim]") {
  const std::vector<Tensor> tensors = three_tensors();
  auto backend = make_cuda_backend(0, CudaBackendOptions{kStaging, 2});
  sim::fail_call("cudaMalloc", 2, cudaErrorMemoryAllocation);
  RecordingConsumer consumer(tensors.size());
  const Error error = failed_run(*backend, tensors, consumer);
  CHECK(error.code() == ErrorCode::CudaFailure);
  CHECK(says(error, "for the largest tensor"));
  CHECK_FALSE(consumer.results[0].begun);
  require_clean_run(*backend, tensors);
}

TEST_CASE("a GPU fault mid-run fails the run with CudaFailure and the backend shuts down",
          "[cuda-sim]") {
  for (const char* operation : {"H2D", "absmax_kernel", "quantize_kernel", "D2H"}) {
    INFO(operation);
    sim::reset(sim::config_from_environment());
    const std::vector<Tensor> tensors = three_tensors();
    auto backend = make_cuda_backend(0, CudaBackendOptions{kStaging, 2});
    sim::fail_execution(operation, 2);
    RecordingConsumer consumer(tensors.size());
    const Error error = failed_run(*backend, tensors, consumer);
    CHECK(error.code() == ErrorCode::CudaFailure);
    CHECK(says(error, "cudaErrorLaunchFailure"));
    // The context is gone (as after a real fault): the destructor must still return. (The
    // simulator checks nothing more after a fault: every call just fails, as in CUDA.)
    backend.reset();
  }
}

TEST_CASE("Qwen-Image's largest tensor fits an 8 GB card; a smaller card gets a clear error",
          "[cuda-sim]") {
  // docs/format.md#qwen-image: transformer_blocks.N.{img,txt}_mod.1.weight, [18432, 3072] BF16
  // (113 MB), the largest tensor of Qwen-Image; device memory is sized by the largest tensor only.
  const uint64_t numel = uint64_t{18432} * 3072;
  const uint64_t source_bytes = numel * 2;
  Tensor largest{"transformer_blocks.0.img_mod.1.weight", Dtype::BF16, numel,
                 std::vector<uint8_t>(1 + source_bytes)};
  for (uint64_t i = 0; i < numel; ++i) {  // finite BF16 values spread over many exponents
    largest.storage[1 + 2 * i] = static_cast<uint8_t>(i * 2654435761u >> 24);
    largest.storage[2 + 2 * i] = static_cast<uint8_t>(0x30 + (i % 23));
  }
  const std::vector<Tensor> model{make_tensor("small", Dtype::BF16, 3072, 5), largest};

  auto backend = make_cuda_backend(0);
  RecordingConsumer consumer(model.size());
  backend->run(jobs_of(model), consumer);
  require_reference_results(model, consumer);
  // Two source buffers (upload next while casting this one) and one FP8 buffer, plus the
  // 8-byte stats word: 2 x 108 + 54 = 270 MiB, far below 8 GB.
  const uint64_t bound = 2 * source_bytes + numel + 256;
  CHECK(sim::peak_device_bytes() <= bound);
  CHECK(sim::peak_device_bytes() >= 2 * source_bytes + numel);
  backend.reset();
  CHECK(sim::device_bytes_in_use() == 0);
  CHECK(sim::pinned_bytes_in_use() == 0);

  sim::Config small_card = sim::config_from_environment();
  small_card.device_memory_bytes = uint64_t{200} << 20;
  sim::reset(small_card);
  backend = make_cuda_backend(0);
  RecordingConsumer refused(model.size());
  const Error error = failed_run(*backend, model, refused);
  CHECK(error.code() == ErrorCode::CudaFailure);
  CHECK(says(error, "cannot allocate 270.0 MiB on cuda:0"));
  CHECK(says(error, "out of memory"));
  CHECK_FALSE(refused.results[0].begun);
  require_clean_run(*backend, {make_tensor("fits", Dtype::BF16, 1 << 20, 6)});
}

TEST_CASE("the pinned rings are as large as the largest tensor, at most the staging size",
          "[cuda-sim]") {
  // Told that the largest source has 12000 bytes (a multiple of 16), a backend with the
  // default 32 MiB slots, 2 per ring (one reader thread), pins 2 x 2 slots of 12000 bytes
  // when it starts, plus the 8-byte stats word.
  CudaBackendOptions told{uint64_t{32} << 20, 2, 1};
  told.largest_tensor_bytes = 12000;
  auto backend = make_cuda_backend(0, told);
  const uint64_t started = sim::pinned_bytes_in_use();
  CHECK(started >= 2 * 2 * 12000);
  CHECK(started <= 2 * 2 * 12000 + 256);
  require_clean_run(*backend, {make_tensor("a", Dtype::BF16, 6000, 1),
                               make_tensor("b", Dtype::F16, 100, 2)});
  CHECK(sim::pinned_bytes_in_use() == started);
  backend.reset();
  CHECK(sim::pinned_bytes_in_use() == 0);
  // Runs with larger tensors grow the rings (a batch's next model), up to the staging size.
  CudaBackendOptions tiny{kStaging, 2, 1};
  tiny.largest_tensor_bytes = 200;  // rounded up to 208
  backend = make_cuda_backend(0, tiny);
  const uint64_t small = sim::pinned_bytes_in_use();
  CHECK(small >= 2 * 2 * 208);
  CHECK(small <= 2 * 2 * 208 + 256);
  require_clean_run(*backend, three_tensors());
  CHECK(sim::pinned_bytes_in_use() - small == 2 * 2 * (kStaging - 208));
  require_clean_run(*backend, {make_tensor("large", Dtype::F32, 10 * kStaging, 4)});
  CHECK(sim::pinned_bytes_in_use() - small == 2 * 2 * (kStaging - 208));
  backend.reset();
  CHECK(sim::pinned_bytes_in_use() == 0);
}

TEST_CASE("a backend on device 1 keeps to device 1 when run and destroyed on other threads",
          "[cuda-sim]") {
  sim::Config two_devices = sim::config_from_environment();
  two_devices.devices = 2;
  sim::reset(two_devices);
  REQUIRE(cuda_usable_device_count() == 2);
  const std::vector<Tensor> tensors = three_tensors();
  std::unique_ptr<QuantizeBackend> backend;
  on_another_thread([&] { backend = make_cuda_backend(1, CudaBackendOptions{kStaging, 3}); });
  CHECK(backend->description().rfind("cuda:1 ", 0) == 0);
  RecordingConsumer consumer(tensors.size());
  on_another_thread([&] { backend->run(jobs_of(tensors), consumer); });
  require_reference_results(tensors, consumer);
  on_another_thread([&] { backend.reset(); });
  // A stream, event or buffer of the wrong device would have been recorded as a violation.
  require_no_violations();
  CHECK(sim::device_bytes_in_use() == 0);
}

TEST_CASE("without a CUDA device, make_cuda_backend is CudaUnavailable", "[cuda-sim]") {
  sim::Config no_gpu = sim::config_from_environment();
  no_gpu.devices = 0;
  sim::reset(no_gpu);
  CHECK(cuda_usable_device_count() == 0);
  try {
    make_cuda_backend(0);
    FAIL("no error without a device");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::CudaUnavailable);
    CHECK(says(error, "no CUDA device is usable"));
  }
}

TEST_CASE("the next tensor is uploaded while the current one is delivered", "[cuda-sim]") {
  const std::vector<Tensor> tensors = three_tensors();
  auto backend = make_cuda_backend(0, CudaBackendOptions{kStaging, 2});
  RecordingConsumer consumer(tensors.size());
  slow_writer(consumer, std::chrono::milliseconds(200));  // time for the reader to stage ahead
  backend->run(jobs_of(tensors), consumer);
  require_reference_results(tensors, consumer);
  // Staged during the delivery of tensor k, uploaded between its FP8 chunks.
  CHECK(consumer.results[0].next_read_at_end > 0);
  CHECK(consumer.results[1].next_read_at_end > 0);
}

TEST_CASE("a run of empty tensors only needs no device buffer", "[cuda-sim]") {
  auto backend = make_cuda_backend(0, CudaBackendOptions{kStaging, 2});
  const std::vector<Tensor> empty{make_tensor("e", Dtype::BF16, 0, 1),
                                  make_tensor("f", Dtype::F32, 0, 2)};
  RecordingConsumer consumer(empty.size());
  backend->run(jobs_of(empty), consumer);
  require_reference_results(empty, consumer);
  CHECK(consumer.results[0].chunk_sizes.empty());
  CHECK(consumer.results[1].chunk_sizes.empty());
  require_clean_run(*backend, three_tensors());
}

TEST_CASE("staging sizes that are tiny or not a multiple of 16 still give the reference bytes",
          "[cuda-sim]") {
  // Rounded down to a multiple of 16 (at least 16): device offsets stay 16-byte aligned.
  for (const CudaBackendOptions& options :
       {CudaBackendOptions{16, 2}, CudaBackendOptions{17, 2}, CudaBackendOptions{4100, 3},
        CudaBackendOptions{1, 1}, CudaBackendOptions{48, 100}, CudaBackendOptions{16, 2, 7},
        CudaBackendOptions{4100, 3, 2}}) {
    INFO(options.staging_bytes << " bytes x " << options.slots << " slots, "
                               << options.reader_threads << " reader threads");
    auto backend = make_cuda_backend(0, options);
    require_clean_run(*backend, three_tensors());
  }
}

TEST_CASE("CUDA backend options: limits, and reader threads from the hardware", "[cuda-sim]") {
  struct Case {
    CudaBackendOptions asked;
    unsigned hardware_threads;
    CudaBackendOptions used;
  };
  const uint64_t mib32 = uint64_t{32} << 20;
  for (const Case& c : std::vector<Case>{
           {CudaBackendOptions{}, 2, {mib32, 2, 1}},     // the CI machine: one reader
           {CudaBackendOptions{}, 4, {mib32, 3, 2}},     // a slot for each reader + one uploading
           {CudaBackendOptions{}, 16, {mib32, 4, 3}},    // at most 3 by default
           {CudaBackendOptions{}, 0, {mib32, 2, 1}},     // hardware_concurrency() unknown
           {{mib32, 8, 0}, 16, {mib32, 8, 3}},           // more slots than readers is fine
           {{100, 2, 5}, 2, {96, 6, 5}},                 // asked for: kept; 16-byte multiple
           {{8, 1, 20}, 16, {16, 8, 7}},                 // at most 7 readers and 8 slots
       }) {
    const CudaBackendOptions used = resolved_cuda_options(c.asked, c.hardware_threads);
    INFO("asked " << c.asked.staging_bytes << " bytes, " << c.asked.slots << " slots, "
                  << c.asked.reader_threads << " readers, on " << c.hardware_threads
                  << " hardware threads");
    CHECK(used.staging_bytes == c.used.staging_bytes);
    CHECK(used.slots == c.used.slots);
    CHECK(used.reader_threads == c.used.reader_threads);
  }
}

TEST_CASE("each run logs where it waited: for the readers, the GPU or the writer", "[cuda-sim]") {
  const std::vector<Tensor> tensors = three_tensors();
  auto backend = make_cuda_backend(0, CudaBackendOptions{kStaging, 2});
  RecordingConsumer consumer(tensors.size());
  slow_writer(consumer, std::chrono::milliseconds(100));  // at least 0.3 s in the writer
  std::string text;
  {
    const CapturedLog log;
    backend->run(jobs_of(tensors), consumer);
    text = log.text();
  }
  INFO(text);
  uint64_t source_bytes = 0;
  for (const Tensor& tensor : tensors) source_bytes += tensor.storage.size() - 1;
  REQUIRE(source_bytes == 45074);  // 2 x 6151 + 4 x 4097 + 2 x 8192
  REQUIRE(text.find("cuda:0 Simulated CUDA device 0 (sm_90, 8.0 GiB): 3 tensors, 45.1 kB in ") !=
          std::string::npos);
  const std::size_t writer = text.find(" s in the writer");
  REQUIRE(writer != std::string::npos);
  const std::size_t number = text.rfind(", ", writer) + 2;
  CHECK(std::stod(text.substr(number, writer - number)) >= 0.3);
  CHECK(text.find("s for the readers (") != std::string::npos);
  CHECK(text.find(" s for the GPU, ") != std::string::npos);
}

TEST_CASE("the kernel launchers reject a non-float source with the converter's one error",
          "[cuda-sim]") {
  const std::string detail =
      "cannot quantize a I32 tensor: only F16, BF16 and F32 sources are supported";
  uint32_t amax = 0;
  float scale = 1.0f;
  uint8_t out[4] = {};
  const uint8_t source[16] = {};
  const auto rejects = [&](const char* launcher, auto launch) {
    INFO(launcher);
    try {
      launch();
      FAIL("no error for an I32 source");
    } catch (const Error& error) {
      CHECK(error.code() == ErrorCode::Internal);
      CHECK(error.detail() == detail);
    }
  };
  rejects("absmax", [&] { launch_absmax_magnitude(Dtype::I32, source, 4, &amax, nullptr); });
  rejects("scale", [&] { launch_scale_from_amax(Dtype::I32, &amax, &scale, nullptr); });
  rejects("quantize", [&] { launch_quantize(Dtype::I32, source, 4, &scale, out, nullptr); });
}
