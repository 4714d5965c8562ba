// bench_cpu_quantize.cpp — times the CPU backend on a random tensor (256 MiB of BF16 by
// default) at 1 thread and at all cores, after checking its bytes against
// quantize_reference. Prints GB/s of input (per BF16 element: 2 bytes read twice, absmax
// then cast, and 1 byte written).
//   bench_cpu_quantize [MiB] [bf16|f16|f32]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"

namespace {

// Keeps the output so validation can compare it; timing runs only count bytes.
class CollectingConsumer : public qfp8::QuantizedConsumer {
 public:
  explicit CollectingConsumer(bool keep) : keep_(keep) {}
  void begin_tensor(std::size_t, float scale) override { scale_ = scale; }
  void tensor_bytes(std::size_t, const uint8_t* fp8, uint64_t count) override {
    if (keep_) bytes_.insert(bytes_.end(), fp8, fp8 + count);
    received_ += count;
  }
  void end_tensor(std::size_t) override {}

  bool keep_;
  float scale_ = 0.0f;
  uint64_t received_ = 0;
  std::vector<uint8_t> bytes_;
};

// Weight-like values: roughly normal with sigma 0.02 (sum of four uniforms), like a
// trained Linear layer, stored as BF16 / F16 (both truncated from F32) or F32.
std::vector<uint8_t> random_weights(qfp8::Dtype dtype, uint64_t numel) {
  const std::size_t size = qfp8::dtype_size(dtype);
  std::vector<uint8_t> bytes(numel * size);
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (uint64_t i = 0; i < numel; ++i) {
    double sum = 0.0;
    for (int k = 0; k < 4; ++k) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      sum += static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5;
    }
    const uint32_t bits = qfp8::float_bits(static_cast<float>(sum * 0.02 * 1.7320508));
    uint32_t stored = bits;
    if (dtype == qfp8::Dtype::BF16) stored = bits >> 16;
    if (dtype == qfp8::Dtype::F16) {
      const uint32_t exponent = (bits >> 23) & 0xFFu;
      stored = (bits >> 16) & 0x8000u;  // values below 2^-14 flush to zero: fine for timing
      if (exponent > 112) stored |= ((exponent - 112) << 10) | ((bits >> 13) & 0x3FFu);
    }
    std::memcpy(bytes.data() + size * i, &stored, size);
  }
  return bytes;
}

qfp8::Dtype dtype_from_arg(const char* arg) {
  const std::string name = arg;
  if (name == "f16") return qfp8::Dtype::F16;
  if (name == "f32") return qfp8::Dtype::F32;
  return qfp8::Dtype::BF16;
}

double seconds_for_run(qfp8::QuantizeBackend& backend, const qfp8::QuantizeJob& job) {
  CollectingConsumer consumer(false);
  const auto start = std::chrono::steady_clock::now();
  backend.run({job}, consumer);
  const auto stop = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(stop - start).count();
}

bool validate(const qfp8::QuantizeJob& job) {
  const uint32_t magnitude = qfp8::absmax_magnitude_reference(job.dtype, job.source, job.numel);
  const float scale = qfp8::scale_from_amax(qfp8::amax_from_magnitude(job.dtype, magnitude));
  std::vector<uint8_t> expected(job.numel);
  qfp8::quantize_reference(job.dtype, job.source, job.numel, scale, expected.data());
  auto backend = qfp8::make_cpu_backend(0);
  CollectingConsumer consumer(true);
  backend->run({job}, consumer);
  return consumer.scale_ == scale && consumer.bytes_ == expected;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
  const qfp8::Dtype dtype = argc > 2 ? dtype_from_arg(argv[2]) : qfp8::Dtype::BF16;
  const std::size_t size = qfp8::dtype_size(dtype);
  const uint64_t numel = mib * (uint64_t{1} << 20) / size;
  const auto bytes = random_weights(dtype, numel);
  const qfp8::QuantizeJob job{"bench.weight", dtype, bytes.data(), numel};
  if (!validate(job)) {
    std::fprintf(stderr, "validation failed: cpu backend differs from quantize_reference\n");
    return 1;
  }
  const std::string name(qfp8::dtype_name(dtype));
  std::printf("validated %llu %s elements against quantize_reference\n",
              static_cast<unsigned long long>(numel), name.c_str());
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<unsigned> thread_counts = {1};
  if (cores > 1) thread_counts.push_back(cores);
  for (const unsigned threads : thread_counts) {
    auto backend = qfp8::make_cpu_backend(threads);
    seconds_for_run(*backend, job);  // warm-up: page faults, buffer allocation
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) best = std::min(best, seconds_for_run(*backend, job));
    const double input_gb = static_cast<double>(numel * size) / 1e9;
    std::printf("%-22s %6.1f MiB %-4s in %8.2f ms: %6.2f GB/s input (%5.2f GB/s per thread)\n",
                backend->description().c_str(), static_cast<double>(mib), name.c_str(),
                best * 1e3, input_gb / best, input_gb / best / threads);
  }
  return 0;
}
