// test_cuda_backend.cpp — CudaBackend end to end: scales and FP8 bytes equal the reference
// twins (and the CPU backend) for odd sizes, unaligned sources and tensors larger than the
// staging buffer; Inf/NaN fail with NonFiniteWeight before anything reaches the consumer;
// the consumer protocol of backends/backend.hpp holds (the source of every job reported read,
// in order, also while the previous tensor is delivered); the backend survives errors and
// gives the same bytes run after run under a writer of varying pace.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "backends/cuda/cuda_backend.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "support/backend_test_support.hpp"
#include "support/cuda_test_data.hpp"

using namespace qfp8;

namespace {

using test::jobs_of;
using test::make_tensor;
using test::RecordingConsumer;
using test::require_reference_result;
using test::Tensor;

std::vector<Tensor> chunking_tensors(uint64_t staging) {
  std::vector<Tensor> tensors;
  uint32_t seed = 1;
  for (Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    const uint64_t per_buffer = staging / test::element_size(dtype);
    for (uint64_t numel : {uint64_t{0}, uint64_t{1}, uint64_t{17}, per_buffer - 1, per_buffer,
                           per_buffer + 1, staging - 1, staging, staging + 1, 5 * staging + 3}) {
      tensors.push_back(make_tensor(std::string(dtype_name(dtype)) + "." + std::to_string(numel),
                                    dtype, numel, seed++));
    }
  }
  return tensors;
}

}  // namespace

TEST_CASE("CudaBackend equals the reference, also for tensors larger than the staging buffer",
          "[cuda][backend]") {
  const uint64_t staging = 64 * 1024;
  for (const auto& [slots, readers] : {std::pair{2u, 1u}, std::pair{3u, 2u}, std::pair{8u, 7u}}) {
    INFO(slots << " slots, " << readers << " reader threads");
    auto backend = make_cuda_backend(0, CudaBackendOptions{staging, slots, readers});
    const std::vector<Tensor> tensors = chunking_tensors(staging);
    RecordingConsumer consumer(tensors.size());
    backend->run(jobs_of(tensors), consumer);
    for (std::size_t k = 0; k < tensors.size(); ++k) {
      require_reference_result(tensors[k], consumer.results[k]);
      // FP8 arrives in staging-sized chunks, in order; an empty tensor gets none.
      const uint64_t numel = tensors[k].numel;
      REQUIRE(consumer.results[k].chunk_sizes.size() == (numel + staging - 1) / staging);
      for (uint64_t count : consumer.results[k].chunk_sizes) REQUIRE(count <= staging);
      REQUIRE(consumer.results[k].source_read == numel * test::element_size(tensors[k].dtype));
    }
  }
}

TEST_CASE("CudaBackend gives the reference bytes run after run, whatever the writer's pace",
          "[cuda][backend]") {
  // On a GPU a missing wait shows only when the timing is unlucky: many runs, with 7
  // readers racing 8 slots and a consumer that sometimes stalls, give it the chances.
  const uint64_t staging = 4096;
  std::mt19937 random(5);
  std::vector<Tensor> tensors;
  const Dtype dtypes[] = {Dtype::BF16, Dtype::F16, Dtype::F32};
  for (uint32_t k = 0; k < 12; ++k) {
    tensors.push_back(
        make_tensor("t" + std::to_string(k), dtypes[k % 3], random() % (6 * staging), 100 + k));
  }
  auto backend = make_cuda_backend(0, CudaBackendOptions{staging, 8, 7});
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    RecordingConsumer consumer(tensors.size());
    consumer.on_tensor_bytes = [&random](std::size_t) {
      if (random() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(random() % 300));
    };
    backend->run(jobs_of(tensors), consumer);
    for (std::size_t k = 0; k < tensors.size(); ++k) {
      require_reference_result(tensors[k], consumer.results[k]);
    }
  }
}

TEST_CASE("CudaBackend with default options equals the CPU backend byte for byte",
          "[cuda][backend]") {
  const std::vector<Tensor> tensors{
      make_tensor("a", Dtype::BF16, 3072 * 64, 11), make_tensor("b", Dtype::F16, 12345, 12),
      make_tensor("c", Dtype::F32, 99991, 13), make_tensor("d", Dtype::BF16, 5, 14)};
  auto gpu = make_cuda_backend(0);
  auto cpu = make_cpu_backend(2u);
  RecordingConsumer from_gpu(tensors.size());
  RecordingConsumer from_cpu(tensors.size());
  from_cpu.single_pass_reads = false;
  gpu->run(jobs_of(tensors), from_gpu);
  cpu->run(jobs_of(tensors), from_cpu);
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    require_reference_result(tensors[k], from_gpu.results[k]);
    CHECK(float_bits(from_gpu.results[k].scale) == float_bits(from_cpu.results[k].scale));
    CHECK(from_gpu.results[k].bytes == from_cpu.results[k].bytes);
  }
}

TEST_CASE("CudaBackend rejects Inf and NaN with NonFiniteWeight and stays usable",
          "[cuda][backend]") {
  const uint64_t staging = 4096;
  auto backend = make_cuda_backend(0, CudaBackendOptions{staging, 2});
  struct Case {
    Dtype dtype;
    uint32_t bits;
  };
  for (const Case& bad :
       {Case{Dtype::BF16, 0x7FC0u}, Case{Dtype::F16, 0xFC00u}, Case{Dtype::F32, 0x7F800000u}}) {
    std::vector<Tensor> tensors{make_tensor("first", bad.dtype, 1000, 1),
                                make_tensor("broken", bad.dtype, 3 * staging + 1, 2),
                                make_tensor("third", bad.dtype, 1000, 3)};
    // The last element: it arrives in the last chunk uploaded.
    std::vector<uint8_t> body(tensors[1].storage.begin() + 1, tensors[1].storage.end());
    test::store_element(bad.dtype, body, tensors[1].numel - 1, bad.bits);
    std::copy(body.begin(), body.end(), tensors[1].storage.begin() + 1);
    RecordingConsumer consumer(tensors.size());
    try {
      backend->run(jobs_of(tensors), consumer);
      FAIL("no error for a tensor with Inf or NaN");
    } catch (const Error& error) {
      CHECK(error.code() == ErrorCode::NonFiniteWeight);
      CHECK(error.tensor() == "broken");
      CHECK(std::string(error.what()).find("contains Inf or NaN") != std::string::npos);
    }
    require_reference_result(tensors[0], consumer.results[0]);
    CHECK_FALSE(consumer.results[1].begun);
    CHECK(consumer.results[1].bytes.empty());
    CHECK_FALSE(consumer.results[2].begun);
    // Still correct afterwards.
    const std::vector<Tensor> good{make_tensor("again", bad.dtype, 3 * staging + 1, 4)};
    RecordingConsumer after(1);
    backend->run(jobs_of(good), after);
    require_reference_result(good[0], after.results[0]);
  }
}

TEST_CASE("CudaBackend passes a consumer's exception on and stays usable", "[cuda][backend]") {
  auto backend = make_cuda_backend(0, CudaBackendOptions{1024, 2});
  const std::vector<Tensor> tensors{make_tensor("x", Dtype::BF16, 10000, 21),
                                    make_tensor("y", Dtype::BF16, 10000, 22)};
  RecordingConsumer consumer(tensors.size());
  consumer.throw_after_job = 0;
  CHECK_THROWS_WITH(backend->run(jobs_of(tensors), consumer), "consumer gave up");
  CHECK_FALSE(consumer.results[1].begun);
  RecordingConsumer again(tensors.size());
  backend->run(jobs_of(tensors), again);
  require_reference_result(tensors[0], again.results[0]);
  require_reference_result(tensors[1], again.results[1]);
}

TEST_CASE("CudaBackend rejects a dtype it cannot quantize", "[cuda][backend]") {
  auto backend = make_cuda_backend(0);
  const std::vector<uint8_t> bytes(40, 1);
  RecordingConsumer consumer(1);
  try {
    backend->run({QuantizeJob{"ints", Dtype::I32, bytes.data(), 10}}, consumer);
    FAIL("no error for an I32 tensor");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::Internal);
    CHECK(error.tensor() == "ints");
  }
  CHECK_FALSE(consumer.results[0].begun);
}

// [api-error]: asks the runtime for a device that does not exist, on purpose, which
// compute-sanitizer reports as an API error; scripts/gpu-checks.sh memchecks it apart.
TEST_CASE("make_cuda_backend names the device and rejects a missing one",
          "[cuda][backend][api-error]") {
  CHECK(make_cuda_backend(0)->description().rfind("cuda:0 ", 0) == 0);
  const int count = cuda_usable_device_count();
  try {
    make_cuda_backend(count);
    FAIL("no error for a device index past the last device");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::CudaUnavailable);
  }
  CHECK_THROWS_AS(cuda_device_description(count), Error);
}
