// backend_test_support.hpp — fixtures for the CUDA backend's tests, shared by the GPU
// suite (tests/gpu) and the simulated-runtime suite (tests/backends/cuda_sim): tensors with an
// unaligned source, a consumer that records what arrives and fails the test on any breach
// of backends/backend.hpp's protocol, and the reference result to compare with.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "selftest/recording_consumer.hpp"
#include "support/cuda_test_data.hpp"

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

/// Records what the backend delivers and fails the test on any protocol breach; the CUDA
/// backend uploads each source byte once, so reads are checked too.
class RecordingConsumer final : public selftest::RecordingConsumer {
 public:
  explicit RecordingConsumer(std::size_t jobs) : selftest::RecordingConsumer(jobs) {
    single_pass_reads = true;
    on_protocol_error = [](const std::string& breach) { FAIL("consumer protocol: " << breach); };
  }
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
