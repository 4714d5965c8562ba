// backend_test_support.hpp — fixtures for the CUDA backend's tests, shared by the GPU
// suite (tests/cuda) and the simulated-runtime suite (tests/cuda_sim): tensors with an
// unaligned source, a consumer that records what arrives and fails the test on any breach
// of convert/backend.hpp's protocol, and the reference result to compare with.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "convert/backend.hpp"
#include "convert/quantize_reference.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "cuda_test_data.hpp"

namespace qfp8::test {

struct Tensor {
  std::string name;
  Dtype dtype;
  uint64_t numel;
  std::vector<uint8_t> storage;  // one spare byte in front: the source is unaligned
  QuantizeJob job() const { return QuantizeJob{name, dtype, storage.data() + 1, numel}; }
};

inline Tensor make_tensor(const std::string& name, Dtype dtype, uint64_t numel, uint32_t seed) {
  std::vector<uint8_t> bytes = random_weights(dtype, numel, seed);
  bytes.insert(bytes.begin(), uint8_t{0xEE});
  return Tensor{name, dtype, numel, std::move(bytes)};
}

/// Records what the backend delivers and fails the test on any protocol breach.
class RecordingConsumer final : public QuantizedConsumer {
 public:
  struct Result {
    bool begun = false;
    bool ended = false;
    float scale = 0.0f;
    std::vector<uint8_t> bytes;
    std::vector<uint64_t> chunk_sizes;
    uint64_t source_read = 0;       // bytes reported read, contiguous from 0
    uint64_t next_read_at_end = 0;  // the next job's source_read when this one ended
  };
  explicit RecordingConsumer(std::size_t jobs) : results(jobs) {}
  void begin_tensor(std::size_t job, float scale) override {
    REQUIRE(job == next_);
    REQUIRE_FALSE(results[job].begun);
    results[job].begun = true;
    results[job].scale = scale;
  }
  void tensor_bytes(std::size_t job, const uint8_t* fp8, uint64_t count) override {
    REQUIRE(job == next_);
    REQUIRE(results[job].begun);
    results[job].bytes.insert(results[job].bytes.end(), fp8, fp8 + count);
    results[job].chunk_sizes.push_back(count);
    if (on_tensor_bytes) on_tensor_bytes(job);
  }
  void end_tensor(std::size_t job) override {
    REQUIRE(job == next_);
    REQUIRE(results[job].begun);
    results[job].ended = true;
    if (job + 1 < results.size()) results[job].next_read_at_end = results[job + 1].source_read;
    next_ = job + 1;
    if (throw_after_job == job) throw std::runtime_error("consumer gave up");
  }
  void source_read(std::size_t job, uint64_t offset, uint64_t length) override {
    // The CPU backend reads every source twice (absmax pass, cast pass), and says so.
    if (!single_pass_reads) return;
    // The upload of a tensor may run ahead by one: while the previous one is delivered.
    REQUIRE(job < results.size());
    REQUIRE(job <= next_ + 1);
    REQUIRE(offset == results[job].source_read);
    REQUIRE(length > 0);
    results[job].source_read += length;
  }
  std::vector<Result> results;
  std::size_t throw_after_job = SIZE_MAX;
  bool single_pass_reads = true;  // the CUDA backend uploads each source byte once
  std::function<void(std::size_t job)> on_tensor_bytes;  // after each chunk is recorded

 private:
  std::size_t next_ = 0;
};

inline std::vector<QuantizeJob> jobs_of(const std::vector<Tensor>& tensors) {
  std::vector<QuantizeJob> jobs;
  for (const auto& tensor : tensors) jobs.push_back(tensor.job());
  return jobs;
}

inline void require_reference_result(const Tensor& tensor, const RecordingConsumer::Result& got) {
  INFO(tensor.name);
  const QuantizeJob job = tensor.job();
  const uint32_t amax = absmax_magnitude_reference(job.dtype, job.source, job.numel);
  const float scale = scale_from_amax(amax_from_magnitude(job.dtype, amax));
  std::vector<uint8_t> expected(job.numel);
  quantize_reference(job.dtype, job.source, job.numel, scale, expected.data());
  REQUIRE(got.begun);
  REQUIRE(got.ended);
  REQUIRE(float_bits(got.scale) == float_bits(scale));
  REQUIRE(got.bytes.size() == expected.size());
  // The first differing byte, not both vectors: Catch would print every element.
  const auto differ = std::mismatch(got.bytes.begin(), got.bytes.end(), expected.begin());
  const auto first_difference = static_cast<uint64_t>(differ.first - got.bytes.begin());
  INFO("first differing FP8 byte: " << first_difference << " of " << expected.size());
  REQUIRE(first_difference == expected.size());
}

}  // namespace qfp8::test
