// test_backend_cpu_formats.cpp — the threaded CPU backend writes float8_e5m2, mxfp8 and nvfp4
// with the bytes of the reference twins (core/quantize_reference.hpp) for every source dtype,
// thread count and piece size: data in order, the blocked scales once after the data, the
// per-tensor scale first.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "backends/cpu/cpu_backend_options.hpp"
#include "core/bf16.hpp"
#include "core/error.hpp"
#include "core/quantize_reference.hpp"

using namespace qfp8;

namespace {

struct Recorded {
  float scale = -1.0f;
  std::vector<uint8_t> data;
  std::vector<uint8_t> scales;
  int block_scale_calls = 0;
  bool ended = false;
};

class FormatRecorder : public QuantizedConsumer {
 public:
  void begin_tensor(std::size_t job, float scale) override {
    REQUIRE(job == tensors.size());
    tensors.push_back({});
    tensors.back().scale = scale;
  }
  void tensor_bytes(std::size_t job, const uint8_t* data, uint64_t count) override {
    REQUIRE(job + 1 == tensors.size());
    REQUIRE(tensors.back().block_scale_calls == 0);  // scales come after all the data
    tensors.back().data.insert(tensors.back().data.end(), data, data + count);
  }
  void block_scales(std::size_t job, const uint8_t* codes, uint64_t count) override {
    REQUIRE(job + 1 == tensors.size());
    ++tensors.back().block_scale_calls;
    tensors.back().scales.assign(codes, codes + count);
  }
  void end_tensor(std::size_t job) override {
    REQUIRE(job + 1 == tensors.size());
    tensors.back().ended = true;
  }
  std::vector<Recorded> tensors;
};

// Values over many binades, with zeros, negative zeros and all-zero stretches (whole blocks).
std::vector<uint8_t> source_bytes(Dtype dtype, uint64_t rows, uint64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-30, 10);
  std::vector<float> values(rows * cols);
  for (uint64_t i = 0; i < values.size(); ++i) {
    const uint64_t block = i / 16;
    if (block % 11 == 3) continue;  // an all-zero block
    values[i] = std::ldexp(normal(rng), exponent(rng) / 4);
    if (i % 97 == 5) values[i] = -0.0f;
  }
  std::vector<uint8_t> bytes(values.size() * (dtype == Dtype::F32 ? 4 : 2));
  for (uint64_t i = 0; i < values.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    if (dtype == Dtype::F32) {
      std::memcpy(&bytes[4 * i], &bits, 4);
    } else {
      const uint16_t half = dtype == Dtype::BF16 ? f32_to_bf16_rne(values[i]) : f32_to_f16_rne(values[i]);
      std::memcpy(&bytes[2 * i], &half, 2);
    }
  }
  return bytes;
}

}  // namespace

TEST_CASE("CPU backend: every format equals the reference twins", "[backend][formats]") {
  const QuantFormat format = GENERATE(QuantFormat::Float8E5m2, QuantFormat::Mxfp8, QuantFormat::Nvfp4);
  const Dtype dtype = GENERATE(Dtype::BF16, Dtype::F16, Dtype::F32);
  // [rows, cols]: one tile of scales, rows past 128 (a second row of tiles), 5 blocks per row
  // for nvfp4 (scale columns padded to 8), a wide row.
  const std::vector<std::pair<uint64_t, uint64_t>> shapes = {{32, 64}, {160, 96}, {48, 80}, {64, 1024}};
  std::vector<std::vector<uint8_t>> sources;
  std::vector<QuantizeJob> jobs;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const auto [rows, cols] = shapes[i];
    if (format == QuantFormat::Mxfp8 && (cols % 32 != 0 || rows % 32 != 0)) continue;
    sources.push_back(source_bytes(dtype, rows, cols, static_cast<unsigned>(i + 7)));
  }
  std::size_t next = 0;
  for (const auto& [rows, cols] : shapes) {
    if (format == QuantFormat::Mxfp8 && (cols % 32 != 0 || rows % 32 != 0)) continue;
    QuantizeJob job;
    job.name = "t" + std::to_string(next) + ".weight";
    job.dtype = dtype;
    job.source = sources[next].data();
    job.numel = rows * cols;
    job.format = format;
    job.rows = rows;
    job.cols = cols;
    jobs.push_back(job);
    ++next;
  }
  const unsigned threads = GENERATE(1u, 3u);
  const uint64_t chunk = GENERATE(uint64_t{100}, uint64_t{64} << 20);  // one row, or all
  CpuBackendOptions options;
  options.threads = threads;
  options.max_chunk_bytes = chunk;
  options.table_min_numel = 0;  // the code table for every BF16/F16 float8_e5m2 tensor
  auto backend = make_cpu_backend(options);
  REQUIRE(backend->supports(format));
  FormatRecorder recorder;
  backend->run(jobs, recorder);
  REQUIRE(recorder.tensors.size() == jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const QuantizeJob& job = jobs[i];
    const Recorded& got = recorder.tensors[i];
    INFO(quant_format_name(format) << " " << dtype_name(dtype) << " " << job.rows << "x" << job.cols
                                   << " threads " << threads << " chunk " << chunk);
    CHECK(got.ended);
    const uint32_t amax = absmax_magnitude_reference(dtype, job.source, job.numel);
    const float scale = tensor_scale_reference(format, dtype, amax);
    if (format == QuantFormat::Float8E5m2) {
      std::vector<uint8_t> expected(job.numel);
      quantize_per_tensor_reference(format, dtype, job.source, job.numel, scale, expected.data());
      CHECK(got.scale == scale);
      CHECK(got.data == expected);
      CHECK(got.block_scale_calls == 0);
    } else {
      const BlockQuantized expected =
          quantize_blocks_reference(format, dtype, job.source, job.rows, job.cols, scale);
      CHECK(got.scale == (format == QuantFormat::Nvfp4 ? scale : 0.0f));
      CHECK(got.data == expected.data);
      CHECK(got.block_scale_calls == 1);
      CHECK(got.scales == expected.scales);
    }
  }
}

TEST_CASE("CPU backend: a block-format tensor with Inf fails before any byte", "[backend][formats]") {
  std::vector<uint16_t> values(32 * 32, 0x3F80);
  values[40] = 0x7F80;  // +Inf
  QuantizeJob job;
  job.name = "inf.weight";
  job.dtype = Dtype::BF16;
  job.source = reinterpret_cast<const uint8_t*>(values.data());
  job.numel = values.size();
  job.format = QuantFormat::Nvfp4;
  job.rows = 32;
  job.cols = 32;
  FormatRecorder recorder;
  auto backend = make_cpu_backend(2);
  CHECK_THROWS_AS(backend->run({job}, recorder), Error);
  CHECK(recorder.tensors.empty());
}
