// selftest_cast_sweep.cu — selftest part (a): proves nvcc compiled e4m3fn_from_f32 from
// core/fp8_e4m3fn.hpp into device code that agrees with the host build for every one of
// the 2^32 float32 bit patterns (device codes are copied back slice by slice and compared
// with the host cast on all cores). The same kernel counts where the hardware cvt
// (cvt.rn.satfinite.e4m3x2.f32, sm_89+) differs from the shared cast: informational only,
// since the converter always uses the shared software cast.
#include <cuda_fp8.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "core/cpu_count.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/thread_start.hpp"
#include "cuda_check.cuh"
#include "cuda_resources.cuh"
#include "launch_config.cuh"
#include "selftest.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kSliceSize = uint64_t{1} << 26;  // 64 MiB of codes per round trip
constexpr uint64_t kAllFloats = uint64_t{1} << 32;
constexpr unsigned kRecorded = 8;

struct HardwareTally {
  unsigned long long mismatches;
  unsigned recorded;
  int hardware_cvt;  // 1 when the kernel ran sm_89+ code, where the cvt is one instruction
  uint32_t bits[kRecorded];
  uint32_t codes[kRecorded];  // hardware code << 8 | shared code
};

__global__ void __launch_bounds__(kThreadsPerBlock)
    cast_slice_kernel(uint64_t first, uint64_t count, uint8_t* codes, HardwareTally* tally) {
  const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
  for (uint64_t i = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < count; i += stride) {
    const uint32_t bits = static_cast<uint32_t>(first + i);
    const float value = float_from_bits(bits);
    const uint8_t shared = e4m3fn_from_f32(value);
    codes[i] = shared;
    const auto pair = __nv_cvt_float2_to_fp8x2(make_float2(value, 0.0f), __NV_SATFINITE, __NV_E4M3);
    const uint8_t hardware = static_cast<uint8_t>(pair & 0xFFu);  // low byte = .x
    if (hardware != shared) {
      atomicAdd(&tally->mismatches, 1ull);
      const unsigned slot = atomicAdd(&tally->recorded, 1u);
      if (slot < kRecorded) {
        tally->bits[slot] = bits;
        tally->codes[slot] = (uint32_t{hardware} << 8) | shared;
      }
    }
  }
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  if (blockIdx.x == 0 && threadIdx.x == 0) tally->hardware_cvt = 1;
#endif
}

struct HostCompare {
  uint64_t mismatches = 0;
  std::vector<std::string> details;
};

/// Compares device codes for [first, first + count) with the host cast on all usable CPUs:
/// part t of `threads` on helper thread t, or on this thread for those the system refused.
HostCompare compare_on_host(uint64_t first, const uint8_t* codes, uint64_t count) {
  const unsigned threads = default_thread_count();
  std::vector<HostCompare> parts(threads);
  const auto compare_part = [&](unsigned t) {
    const uint64_t begin = count * t / threads;
    const uint64_t end = count * (t + 1) / threads;
    for (uint64_t i = begin; i < end; ++i) {
      const uint32_t bits = static_cast<uint32_t>(first + i);
      const uint8_t host = e4m3fn_from_f32(float_from_bits(bits));
      if (host == codes[i]) continue;
      if (++parts[t].mismatches <= 4) {
        char line[96];
        std::snprintf(line, sizeof line, "float 0x%08X: device 0x%02X, host 0x%02X", bits,
                      codes[i], host);
        parts[t].details.emplace_back(line);
      }
    }
  };
  std::vector<std::thread> workers;
  unsigned started = 0;
  try {
    const StartedThreads result = start_threads(workers, threads - 1, compare_part, {});
    started = result.started;
    if (started < threads - 1) {
      warn_fewer_threads("the host comparison", started + 1, threads, result.failure);
    }
  } catch (...) {
    for (auto& worker : workers) worker.join();
    throw;
  }
  // The helpers run parts 0 .. started - 1; this thread runs the rest.
  for (unsigned t = started; t < threads; ++t) compare_part(t);
  for (auto& worker : workers) worker.join();
  HostCompare total;
  for (auto& part : parts) {
    total.mismatches += part.mismatches;
    for (auto& line : part.details) {
      if (total.details.size() < 8) total.details.push_back(std::move(line));
    }
  }
  return total;
}

SelftestCheck hardware_report(const HardwareTally& tally) {
  SelftestCheck check;
  check.name = "hardware cvt";
  check.informational = true;
  const char* path = tally.hardware_cvt != 0 ? "cvt.rn.satfinite.e4m3x2.f32 (sm_89+)"
                                             : "cuda_fp8.h software emulation (below sm_89)";
  char line[200];
  std::snprintf(
      line, sizeof line,
      "%s: %llu of 4294967296 float32 differ from the shared cast (%s; not used by "
      "the converter)",
      path, tally.mismatches,
      tally.mismatches == 0 ? "a fast path would be exact" : "a fast path would not be exact");
  check.summary = line;
  for (unsigned k = 0; k < std::min(tally.recorded, kRecorded); ++k) {
    std::snprintf(line, sizeof line, "float 0x%08X: cvt 0x%02X, shared 0x%02X", tally.bits[k],
                  tally.codes[k] >> 8, tally.codes[k] & 0xFFu);
    check.details.emplace_back(line);
  }
  return check;
}

}  // namespace

std::vector<SelftestCheck> run_cuda_cast_sweep(int device) {
  QFP8_CUDA_CHECK(cudaSetDevice(device));
  const DeviceBytes device_codes = allocate_device_bytes(kSliceSize);
  const DeviceBytes device_tally = allocate_device_bytes(sizeof(HardwareTally));
  const PinnedBytes host_codes = allocate_pinned_bytes(kSliceSize);
  auto* tally = reinterpret_cast<HardwareTally*>(device_tally.get());
  QFP8_CUDA_CHECK(cudaMemset(tally, 0, sizeof(HardwareTally)));
  SelftestCheck shared;
  shared.name = "device cast";
  uint64_t mismatches = 0;
  for (uint64_t first = 0; first < kAllFloats; first += kSliceSize) {
    cast_slice_kernel<<<blocks_for(kSliceSize), kThreadsPerBlock>>>(first, kSliceSize,
                                                                    device_codes.get(), tally);
    QFP8_CUDA_CHECK_LAUNCH("cast_slice_kernel");
    QFP8_CUDA_CHECK(
        cudaMemcpy(host_codes.get(), device_codes.get(), kSliceSize, cudaMemcpyDeviceToHost));
    HostCompare slice = compare_on_host(first, host_codes.get(), kSliceSize);
    mismatches += slice.mismatches;
    for (auto& line : slice.details) {
      if (shared.details.size() < 8) shared.details.push_back(std::move(line));
    }
  }
  HardwareTally host_tally{};
  QFP8_CUDA_CHECK(cudaMemcpy(&host_tally, tally, sizeof host_tally, cudaMemcpyDeviceToHost));
  shared.passed = mismatches == 0;
  shared.summary = "shared e4m3fn cast on the device vs the host for all 4294967296 float32: " +
                   std::to_string(mismatches) + " mismatches";
  return {shared, hardware_report(host_tally)};
}

}  // namespace qfp8
