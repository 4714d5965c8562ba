// bench_cuda_kernels.cu — times the shipped absmax and quantize kernels on one BF16 tensor
// (default: Qwen-Image's largest, 18432 x 3072 = 113 MB), after checking their output
// against the reference twins byte for byte. Prints ms and GB/s of HBM traffic: absmax
// reads 2 bytes per element, quantize reads 2 and writes 1. The yardsticks: a device-to-
// device copy of the same tensor (read + write, the practical ceiling on this card) and
// the card's peak from its memory clock and bus width. Then the other formats' kernels
// (float8_e5m2, mxfp8, nvfp4), each validated first.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "backends/cuda/cuda_resources.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quantize_reference.hpp"
#include "core/quant_format.hpp"
#include "kernels/absmax_kernel.cuh"
#include "kernels/block_quantize_kernel.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/quantize_kernel.cuh"

namespace {

using namespace qfp8;

constexpr int kRepeats = 20;

/// Unlike create_event(), with timing enabled.
Event create_timed_event() {
  cudaEvent_t event = nullptr;
  QFP8_CUDA_CHECK(cudaEventCreate(&event));
  return Event(event);
}

/// Mean milliseconds per call of `launch` over kRepeats, timed with events.
template <class Launch>
float time_ms(Launch&& launch) {
  const Event start = create_timed_event();
  const Event stop = create_timed_event();
  launch();  // warm-up
  QFP8_CUDA_CHECK(cudaEventRecord(start.get()));
  for (int k = 0; k < kRepeats; ++k) launch();
  QFP8_CUDA_CHECK(cudaEventRecord(stop.get()));
  QFP8_CUDA_CHECK(cudaEventSynchronize(stop.get()));
  float ms = 0.0f;
  QFP8_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  return ms / kRepeats;
}

/// The card's theoretical memory bandwidth in GB/s (double data rate), 0 when unknown.
double peak_bandwidth_gbps() {
  int device = 0;
  int clock_khz = 0;
  int bus_bits = 0;
  QFP8_CUDA_CHECK(cudaGetDevice(&device));
  if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0.0;
  }
  return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
}

/// The other formats' kernels on the same BF16 weight, each validated against its reference
/// twin before it is timed: float8_e5m2's per-tensor cast, and the mxfp8 / nvfp4 block
/// kernel (data and blocked scales). False when a kernel's bytes differ.
template <class Row>
bool run_formats(const std::vector<uint8_t>& host, const uint8_t* source, uint64_t rows,
                 uint64_t cols, TensorStats* stats, const Row& row) {
  const uint64_t numel = rows * cols;
  const uint32_t amax = absmax_magnitude_reference(Dtype::BF16, host.data(), numel);
  const DeviceBytes out = allocate_device_bytes(numel);
  for (const QuantFormat format : {QuantFormat::Float8E5m2, QuantFormat::Mxfp8, QuantFormat::Nvfp4}) {
    const float scale = tensor_scale_reference(format, Dtype::BF16, amax);
    launch_scale_from_amax(format, Dtype::BF16, &stats->amax_magnitude, &stats->scale, nullptr);
    const bool blocks = has_block_scales(format);
    const auto scale_shape = blocks ? block_scale_shape(format, rows, cols) : std::vector<uint64_t>{0, 0};
    const uint64_t scale_bytes = scale_shape[0] * scale_shape[1];
    const DeviceBytes scales = allocate_device_bytes(blocks ? scale_bytes : 1);
    const auto launch = [&] {
      if (blocks) {
        launch_quantize_blocks(format, Dtype::BF16, source, rows, cols, &stats->scale, out.get(),
                               scales.get(), scale_shape[1], nullptr);
      } else {
        launch_quantize(format, Dtype::BF16, source, numel, &stats->scale, out.get(), nullptr);
      }
    };
    if (blocks) QFP8_CUDA_CHECK(cudaMemset(scales.get(), 0, scale_bytes));
    launch();
    const uint64_t data_bytes = format == QuantFormat::Nvfp4 ? numel / 2 : numel;
    std::vector<uint8_t> data(data_bytes);
    std::vector<uint8_t> codes(scale_bytes);
    QFP8_CUDA_CHECK(cudaMemcpy(data.data(), out.get(), data_bytes, cudaMemcpyDeviceToHost));
    if (blocks) QFP8_CUDA_CHECK(cudaMemcpy(codes.data(), scales.get(), scale_bytes, cudaMemcpyDeviceToHost));
    bool same;
    if (blocks) {
      const BlockQuantized expected = quantize_blocks_reference(format, Dtype::BF16, host.data(), rows, cols, scale);
      same = data == expected.data && codes == expected.scales;
    } else {
      std::vector<uint8_t> expected(numel);
      quantize_per_tensor_reference(format, Dtype::BF16, host.data(), numel, scale, expected.data());
      same = data == expected;
    }
    if (!same) {
      std::printf("FAIL: %s kernel output differs from the reference; not timing\n",
                  quant_format_name(format));
      return false;
    }
    const float ms = time_ms(launch);
    const double moved = 2.0 * static_cast<double>(numel) + static_cast<double>(data_bytes + scale_bytes);
    const std::string traffic = blocks ? "2 B read + data and block scales written per element"
                                       : "2 B read + 1 B written per element";
    row(quant_format_name(format), ms, moved / (ms * 1e6), traffic.c_str());
  }
  return true;
}

int run(uint64_t rows, uint64_t cols) {
  const uint64_t numel = rows * cols;
  std::vector<uint8_t> host(2 * numel);
  std::mt19937 random(1);
  for (uint64_t i = 0; i < numel; ++i) {
    // Weights-like BF16: exponents 2^-12 .. 2^1, random sign and mantissa.
    const auto r = static_cast<uint32_t>(random());
    const uint32_t bits = ((r >> 31) << 15) | ((115u + r % 14u) << 7) | ((r >> 8) & 0x7Fu);
    host[2 * i] = static_cast<uint8_t>(bits & 0xFFu);
    host[2 * i + 1] = static_cast<uint8_t>(bits >> 8);
  }
  const DeviceBytes source = allocate_device_bytes(host.size());
  const DeviceBytes out = allocate_device_bytes(numel);
  const DeviceBytes stats_bytes = allocate_device_bytes(sizeof(TensorStats));
  auto* stats = reinterpret_cast<TensorStats*>(stats_bytes.get());
  QFP8_CUDA_CHECK(cudaMemcpy(source.get(), host.data(), host.size(), cudaMemcpyHostToDevice));

  // Validate first: absmax, scale and every byte against the reference.
  QFP8_CUDA_CHECK(cudaMemset(stats, 0, sizeof(TensorStats)));
  launch_absmax_magnitude(Dtype::BF16, source.get(), numel, &stats->amax_magnitude, nullptr);
  launch_scale_from_amax(Dtype::BF16, &stats->amax_magnitude, &stats->scale, nullptr);
  launch_quantize(Dtype::BF16, source.get(), numel, &stats->scale, out.get(), nullptr);
  TensorStats got{};
  std::vector<uint8_t> codes(numel);
  QFP8_CUDA_CHECK(cudaMemcpy(&got, stats, sizeof got, cudaMemcpyDeviceToHost));
  QFP8_CUDA_CHECK(cudaMemcpy(codes.data(), out.get(), numel, cudaMemcpyDeviceToHost));
  const uint32_t amax = absmax_magnitude_reference(Dtype::BF16, host.data(), numel);
  const float scale = scale_from_amax(amax_from_magnitude(Dtype::BF16, amax));
  std::vector<uint8_t> expected(numel);
  quantize_reference(Dtype::BF16, host.data(), numel, scale, expected.data());
  if (got.amax_magnitude != amax || got.scale != scale || codes != expected) {
    std::printf("FAIL: kernel output differs from the reference; not timing\n");
    return 2;
  }

  const float absmax_ms = time_ms([&] {
    launch_absmax_magnitude(Dtype::BF16, source.get(), numel, &stats->amax_magnitude, nullptr);
  });
  const float quantize_ms = time_ms([&] {
    launch_quantize(Dtype::BF16, source.get(), numel, &stats->scale, out.get(), nullptr);
  });
  const DeviceBytes copy = allocate_device_bytes(host.size());
  const float copy_ms = time_ms([&] {
    QFP8_CUDA_CHECK(cudaMemcpyAsync(copy.get(), source.get(), host.size(),
                                    cudaMemcpyDeviceToDevice, nullptr));
  });
  const double n = static_cast<double>(numel);
  const double copy_gbps = 4 * n / (copy_ms * 1e6);
  const double absmax_gbps = 2 * n / (absmax_ms * 1e6);
  const double quantize_gbps = 3 * n / (quantize_ms * 1e6);
  const double peak_gbps = peak_bandwidth_gbps();
  cudaDeviceProp properties{};
  QFP8_CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
  std::printf("%s, %d SMs; peak memory bandwidth %.0f GB/s (clock x bus width)\n",
              properties.name, properties.multiProcessorCount, peak_gbps);
  std::printf("BF16 [%llu, %llu], %.1f MB, validated against the reference\n",
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(cols),
              2 * n / 1e6);
  const auto row = [&](const char* what, float ms, double gbps, const char* traffic) {
    std::printf("%-9s %8.3f ms %8.1f GB/s  %5.1f%% of the copy  %5.1f%% of peak  (%s)\n", what,
                ms, gbps, 100.0 * gbps / copy_gbps, peak_gbps > 0 ? 100.0 * gbps / peak_gbps : 0.0,
                traffic);
  };
  row("d2d copy", copy_ms, copy_gbps, "2 B read + 2 B written per element");
  row("absmax", absmax_ms, absmax_gbps, "2 B read per element");
  row("quantize", quantize_ms, quantize_gbps, "2 B read + 1 B written per element");
  std::printf("target: quantize >= 85%% of the copy: %.1f%% (%s)\n",
              100.0 * quantize_gbps / copy_gbps,
              quantize_gbps >= 0.85 * copy_gbps ? "met" : "not met");
  return run_formats(host, source.get(), rows, cols, stats, row) ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t rows = argc > 2 ? std::strtoull(argv[1], nullptr, 10) : 18432;
  const uint64_t cols = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 3072;
  try {
    return run(rows, cols);
  } catch (const qfp8::Error& error) {
    std::fprintf(stderr, "bench_cuda_kernels: %s\n", error.what());
    return 3;
  }
}
