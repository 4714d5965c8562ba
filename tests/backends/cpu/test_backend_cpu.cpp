// test_backend_cpu.cpp — the threaded CPU backend gives the bytes of quantize_reference for
// every dtype, awkward size, alignment and thread count; the consumer sees each tensor in
// order, in bounded chunks, and hears which source slices are read; Inf/NaN tensors fail
// before the consumer sees anything.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "backends/cpu/cpu_backend_options.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "support/numerics_oracle.hpp"

using qfp8::Dtype;
using qfp8::QuantizeJob;

namespace {

std::size_t element_size(Dtype dtype) { return dtype == Dtype::F32 ? 4 : 2; }

// Records what the backend hands over and checks the consumer contract as it goes.
class RecordingConsumer : public qfp8::QuantizedConsumer {
 public:
  struct Tensor {
    float scale = 0.0f;
    std::vector<uint8_t> bytes;
    uint64_t largest_chunk = 0;
    bool ended = false;
  };

  void begin_tensor(std::size_t job_index, float scale) override {
    REQUIRE(job_index == tensors.size());
    if (!tensors.empty()) REQUIRE(tensors.back().ended);
    tensors.push_back({scale, {}, 0, false});
  }
  void tensor_bytes(std::size_t job_index, const uint8_t* fp8, uint64_t count) override {
    REQUIRE(job_index + 1 == tensors.size());
    REQUIRE_FALSE(tensors.back().ended);
    auto& tensor = tensors.back();
    tensor.bytes.insert(tensor.bytes.end(), fp8, fp8 + count);
    tensor.largest_chunk = std::max(tensor.largest_chunk, count);
  }
  void end_tensor(std::size_t job_index) override {
    REQUIRE(job_index + 1 == tensors.size());
    tensors.back().ended = true;
  }
  // A read reported before the job's begin_tensor belongs to the absmax pass, one after it
  // to the cast pass; the latter also records how many FP8 bytes had been delivered.
  void source_read(std::size_t job_index, uint64_t offset, uint64_t length) override {
    const bool cast_pass = job_index + 1 == tensors.size() && !tensors.back().ended;
    const uint64_t delivered = cast_pass ? tensors.back().bytes.size() : 0;
    reads.push_back({job_index, cast_pass, offset, length, delivered});
  }

  struct SourceRead {
    std::size_t job;
    bool cast_pass;
    uint64_t offset, length, fp8_delivered;
  };
  std::vector<Tensor> tensors;
  std::vector<SourceRead> reads;
};

// Random finite elements with magnitudes spread over the E4M3 range (and beyond, so the
// scale is not a power of two), stored `offset` bytes into the buffer.
std::vector<uint8_t> random_tensor(Dtype dtype, uint64_t numel, std::size_t offset,
                                   uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<uint8_t> bytes(offset + numel * element_size(dtype));
  for (uint64_t i = 0; i < numel; ++i) {
    auto bits = static_cast<uint32_t>(random());
    if (dtype == Dtype::F32) bits = (bits & 0x87FFFFFFu) | 0x38000000u;
    if (dtype == Dtype::BF16) bits = (bits & 0x87FFu) | 0x3800u;
    if (dtype == Dtype::F16) bits &= 0xBFFFu;
    std::memcpy(bytes.data() + offset + i * element_size(dtype), &bits, element_size(dtype));
  }
  return bytes;
}

struct Expected {
  float scale;
  std::vector<uint8_t> codes;
};

Expected reference_result(Dtype dtype, const uint8_t* source, uint64_t numel) {
  const uint32_t magnitude = qfp8::absmax_magnitude_reference(dtype, source, numel);
  const float scale = qfp8_test::spec_scale(qfp8::amax_from_magnitude(dtype, magnitude));
  std::vector<uint8_t> codes(numel);
  qfp8::quantize_reference(dtype, source, numel, scale, codes.data());
  return {scale, codes};
}

RecordingConsumer run_backend(qfp8::QuantizeBackend& backend, const std::vector<QuantizeJob>& jobs) {
  RecordingConsumer consumer;
  backend.run(jobs, consumer);
  return consumer;
}

// Writes a non-finite value of `dtype` over element `index`.
void poison(Dtype dtype, std::vector<uint8_t>& bytes, uint64_t index, const std::string& kind) {
  uint32_t bits = 0;
  if (dtype == Dtype::F32) bits = kind == "nan" ? 0x7FC00000u : kind == "+inf" ? 0x7F800000u : 0xFF800000u;
  if (dtype == Dtype::BF16) bits = kind == "nan" ? 0x7FC0u : kind == "+inf" ? 0x7F80u : 0xFF80u;
  if (dtype == Dtype::F16) bits = kind == "nan" ? 0x7E00u : kind == "+inf" ? 0x7C00u : 0xFC00u;
  std::memcpy(bytes.data() + index * element_size(dtype), &bits, element_size(dtype));
}

}  // namespace

TEST_CASE("cpu backend bytes equal quantize_reference for any size and thread count",
          "[backend]") {
  const uint64_t sizes[] = {0, 1, 7, 65537, (uint64_t{1} << 20) + 3};
  for (const Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    for (const uint64_t numel : sizes) {
      const std::size_t offset = numel % 2 == 1 ? 1 : 0;  // odd sizes also unaligned
      const auto bytes = random_tensor(dtype, numel, offset, static_cast<uint32_t>(numel));
      const uint8_t* source = bytes.data() + offset;
      const Expected expected = reference_result(dtype, source, numel);
      for (const unsigned threads : {1u, 2u, 3u, 8u}) {
        INFO(qfp8::dtype_name(dtype) << " numel " << numel << " threads " << threads);
        auto backend = qfp8::make_cpu_backend(threads);
        const auto consumer = run_backend(*backend, {{"t.weight", dtype, source, numel}});
        REQUIRE(consumer.tensors.size() == 1);
        CHECK(consumer.tensors[0].ended);
        CHECK(qfp8::float_bits(consumer.tensors[0].scale) == qfp8::float_bits(expected.scale));
        CHECK(consumer.tensors[0].bytes == expected.codes);
      }
    }
  }
}

TEST_CASE("cpu backend: table and direct paths agree, chunks stay bounded", "[backend]") {
  const uint64_t numel = 70001;
  for (const Dtype dtype : {Dtype::BF16, Dtype::F16}) {
    const auto bytes = random_tensor(dtype, numel, 0, 99);
    const Expected expected = reference_result(dtype, bytes.data(), numel);
    for (const uint64_t table_min_numel : {uint64_t{0}, std::numeric_limits<uint64_t>::max()}) {
      INFO(qfp8::dtype_name(dtype) << " table_min_numel " << table_min_numel);
      qfp8::CpuBackendOptions options;
      options.threads = 3;
      options.max_chunk_bytes = 1000;
      options.table_min_numel = table_min_numel;
      auto backend = qfp8::make_cpu_backend(options);
      const auto consumer = run_backend(*backend, {{"t", dtype, bytes.data(), numel},
                                                   {"small", dtype, bytes.data(), 5}});
      REQUIRE(consumer.tensors.size() == 2);
      CHECK(consumer.tensors[0].bytes == expected.codes);
      CHECK(consumer.tensors[0].largest_chunk == 1000);
      const Expected small = reference_result(dtype, bytes.data(), 5);
      CHECK(consumer.tensors[1].bytes == small.codes);
      CHECK(consumer.tensors[1].scale == small.scale);
    }
  }
}

TEST_CASE("cpu backend: both passes report their source slices read, in order and bounded",
          "[backend]") {
  // 5 Mi F32 elements = 20 MiB of source: two slices of at most 16 MiB per pass.
  const uint64_t numel = uint64_t{5} << 20;
  const uint64_t source_bytes = numel * 4;
  const auto bytes = random_tensor(Dtype::F32, numel, 0, 7);
  auto backend = qfp8::make_cpu_backend(2);
  const auto consumer = run_backend(*backend, {{"big", Dtype::F32, bytes.data(), numel}});
  REQUIRE(consumer.tensors.size() == 1);
  CHECK(consumer.tensors[0].bytes == reference_result(Dtype::F32, bytes.data(), numel).codes);
  for (const bool cast_pass : {false, true}) {
    INFO((cast_pass ? "cast pass" : "absmax pass"));
    uint64_t covered = 0;  // each pass reports [0, source_bytes) in order, without gaps
    for (const auto& read : consumer.reads) {
      if (read.cast_pass != cast_pass) continue;
      CHECK(read.job == 0);
      CHECK(read.offset == covered);
      CHECK(read.length > 0);
      CHECK(read.length <= qfp8::kSourceSliceBytes);
      // Reported read only once the FP8 codes of those elements were handed over.
      if (cast_pass) CHECK(read.fp8_delivered * 4 >= read.offset + read.length);
      covered = read.offset + read.length;
    }
    CHECK(covered == source_bytes);
  }
}

TEST_CASE("cpu backend: a consumer that throws mid-tensor stops the run; the backend goes on",
          "[backend]") {
  // Small chunks, several threads: the consumer throws between two chunks of one tensor.
  const uint64_t numel = 300000;
  const auto bytes = random_tensor(Dtype::BF16, numel, 0, 31);
  const Expected expected = reference_result(Dtype::BF16, bytes.data(), numel);
  qfp8::CpuBackendOptions options;
  options.threads = 3;
  options.max_chunk_bytes = 65536;
  auto backend = qfp8::make_cpu_backend(options);

  class ThrowingConsumer final : public qfp8::QuantizedConsumer {
   public:
    void begin_tensor(std::size_t, float) override {}
    void tensor_bytes(std::size_t, const uint8_t*, uint64_t) override {
      if (++calls == 2) throw std::runtime_error("disk full");
    }
    void end_tensor(std::size_t) override { ended = true; }
    int calls = 0;
    bool ended = false;
  } throwing;
  CHECK_THROWS_WITH(backend->run({{"t", Dtype::BF16, bytes.data(), numel}}, throwing), "disk full");
  CHECK(throwing.calls == 2);
  CHECK_FALSE(throwing.ended);

  for (int run = 0; run < 3; ++run) {
    const auto consumer = run_backend(*backend, {{"t", Dtype::BF16, bytes.data(), numel}});
    REQUIRE(consumer.tensors.size() == 1);
    CHECK(consumer.tensors[0].bytes == expected.codes);
    CHECK(consumer.tensors[0].largest_chunk == 65536);
  }
}

TEST_CASE("cpu backend: several jobs are delivered in order with their own scales",
          "[backend]") {
  const auto a = random_tensor(Dtype::BF16, 100000, 0, 1);
  const auto b = random_tensor(Dtype::F32, 3000, 0, 2);
  const auto c = random_tensor(Dtype::F16, 40000, 0, 3);
  const std::vector<QuantizeJob> jobs = {{"a", Dtype::BF16, a.data(), 100000},
                                         {"b", Dtype::F32, b.data(), 3000},
                                         {"empty", Dtype::BF16, a.data(), 0},
                                         {"c", Dtype::F16, c.data(), 40000}};
  auto backend = qfp8::make_cpu_backend(4);
  const auto consumer = run_backend(*backend, jobs);
  REQUIRE(consumer.tensors.size() == jobs.size());
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    INFO("job " << jobs[j].name);
    const Expected expected = reference_result(jobs[j].dtype, jobs[j].source, jobs[j].numel);
    CHECK(consumer.tensors[j].scale == expected.scale);
    CHECK(consumer.tensors[j].bytes == expected.codes);
    CHECK(consumer.tensors[j].ended);
  }
  CHECK(consumer.tensors[2].scale == 1.0f);
}

TEST_CASE("cpu backend: an all-zero tensor has scale 1 and zero codes", "[backend]") {
  const std::vector<uint8_t> zeros(2 * 100000, 0);
  auto backend = qfp8::make_cpu_backend(2);
  const auto consumer = run_backend(*backend, {{"z", Dtype::BF16, zeros.data(), 100000}});
  REQUIRE(consumer.tensors.size() == 1);
  CHECK(consumer.tensors[0].scale == 1.0f);
  CHECK(consumer.tensors[0].bytes == std::vector<uint8_t>(100000, 0));
}

TEST_CASE("cpu backend: Inf or NaN fails the tensor, naming it, before any byte",
          "[backend]") {
  const uint64_t numel = 65537;
  for (const Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    for (const char* kind : {"nan", "+inf", "-inf"}) {
      INFO(qfp8::dtype_name(dtype) << " " << kind);
      const auto good = random_tensor(dtype, numel, 0, 5);
      auto bad = random_tensor(dtype, numel, 0, 6);
      poison(dtype, bad, 40000, kind);
      auto backend = qfp8::make_cpu_backend(3);
      RecordingConsumer consumer;
      try {
        backend->run({{"good.weight", dtype, good.data(), numel},
                      {"bad.weight", dtype, bad.data(), numel},
                      {"later.weight", dtype, good.data(), numel}},
                     consumer);
        FAIL("no error");
      } catch (const qfp8::Error& error) {
        CHECK(error.code() == qfp8::ErrorCode::NonFiniteWeight);
        CHECK(error.tensor() == "bad.weight");
        CHECK(std::string(error.what()) ==
              "tensor 'bad.weight': contains Inf or NaN (a tensor with non-finite "
              "values cannot be scaled)");
      }
      REQUIRE(consumer.tensors.size() == 1);  // only the good tensor, complete
      CHECK(consumer.tensors[0].ended);
    }
  }
}

TEST_CASE("cpu backend: non-float jobs are rejected", "[backend]") {
  const uint8_t bytes[8] = {};
  auto backend = qfp8::make_cpu_backend(1);
  RecordingConsumer consumer;
  try {
    backend->run({{"ints", Dtype::I32, bytes, 2}}, consumer);
    FAIL("no error");
  } catch (const qfp8::Error& error) {
    CHECK(error.code() == qfp8::ErrorCode::Internal);
    CHECK(error.tensor() == "ints");
  }
  CHECK(consumer.tensors.empty());
  CHECK(backend->description() == "cpu (1 thread)");
  CHECK(qfp8::make_cpu_backend(3)->description() == "cpu (3 threads)");
}
