// test_cuda_formats.cpp — the CUDA backend writes float8_e5m2, mxfp8 and nvfp4 with the CPU
// backend's bytes (itself equal to the reference twins, tests/backends/cpu): the per-tensor
// scale, the data in order and the blocked scales after it, for every source dtype, with
// staging chunks smaller than a tensor. Runs on a GPU and on the simulated runtime.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "backends/cuda/cuda_backend.hpp"
#include "core/bf16.hpp"
#include "core/quant_format.hpp"

using namespace qfp8;

namespace {

struct Delivered {
  float scale = -1.0f;
  std::vector<uint8_t> data;
  std::vector<uint8_t> scales;
  bool operator==(const Delivered& other) const {
    return scale == other.scale && data == other.data && scales == other.scales;
  }
};

class Collector : public QuantizedConsumer {
 public:
  void begin_tensor(std::size_t job, float scale) override {
    REQUIRE(job == results.size());
    results.push_back({});
    results.back().scale = scale;
  }
  void tensor_bytes(std::size_t job, const uint8_t* data, uint64_t count) override {
    REQUIRE(job + 1 == results.size());
    REQUIRE(results.back().scales.empty());
    results.back().data.insert(results.back().data.end(), data, data + count);
  }
  void block_scales(std::size_t job, const uint8_t* codes, uint64_t count) override {
    REQUIRE(job + 1 == results.size());
    results.back().scales.assign(codes, codes + count);
  }
  void end_tensor(std::size_t job) override { REQUIRE(job + 1 == results.size()); }
  std::vector<Delivered> results;
};

std::vector<uint8_t> weights(Dtype dtype, uint64_t numel, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<uint8_t> bytes(numel * dtype_size(dtype));
  for (uint64_t i = 0; i < numel; ++i) {
    const float value = (i / 32) % 7 == 2 ? 0.0f : normal(rng);  // some all-zero blocks
    if (dtype == Dtype::F32) {
      std::memcpy(&bytes[4 * i], &value, 4);
    } else {
      const uint16_t half = dtype == Dtype::BF16 ? f32_to_bf16_rne(value) : f32_to_f16_rne(value);
      std::memcpy(&bytes[2 * i], &half, 2);
    }
  }
  return bytes;
}

}  // namespace

TEST_CASE("CUDA backend: every format gives the CPU backend's bytes", "[cuda][formats]") {
  const QuantFormat format =
      GENERATE(QuantFormat::Float8E5m2, QuantFormat::Mxfp8, QuantFormat::Nvfp4);
  const Dtype dtype = GENERATE(Dtype::BF16, Dtype::F16, Dtype::F32);
  // [rows, cols]: several staging chunks of data and of scales, a second row of scale
  // tiles, scale columns padded (nvfp4: 6 blocks per row).
  const std::vector<std::pair<uint64_t, uint64_t>> shapes = {{64, 96}, {160, 256}, {32, 32}};
  std::vector<std::vector<uint8_t>> sources;
  std::vector<QuantizeJob> jobs;
  for (const auto& [rows, cols] : shapes) {
    if (format == QuantFormat::Mxfp8 && cols % 32 != 0) continue;
    sources.push_back(weights(dtype, rows * cols, static_cast<unsigned>(rows + cols)));
  }
  std::size_t next = 0;
  for (const auto& [rows, cols] : shapes) {
    if (format == QuantFormat::Mxfp8 && cols % 32 != 0) continue;
    QuantizeJob job;
    job.name = "w" + std::to_string(next);
    job.dtype = dtype;
    job.source = sources[next].data();
    job.numel = rows * cols;
    job.format = format;
    job.rows = rows;
    job.cols = cols;
    jobs.push_back(job);
    ++next;
  }
  INFO(quant_format_name(format) << " " << dtype_name(dtype));
  Collector cpu;
  make_cpu_backend(1)->run(jobs, cpu);
  auto gpu_backend = make_cuda_backend(0, CudaBackendOptions{4096, 2});
  REQUIRE(gpu_backend->supports(format));
  Collector gpu;
  gpu_backend->run(jobs, gpu);
  REQUIRE(gpu.results.size() == cpu.results.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    INFO("tensor " << i);
    CHECK(gpu.results[i].scale == cpu.results[i].scale);
    CHECK(gpu.results[i].data == cpu.results[i].data);
    CHECK(gpu.results[i].scales == cpu.results[i].scales);
  }
}
