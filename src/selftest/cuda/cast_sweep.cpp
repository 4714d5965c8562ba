// cast_sweep.cpp — selftest part (a): proves nvcc compiled e4m3fn_from_f32 from
// core/fp8_e4m3fn.hpp into device code that agrees with the host build for every one of
// the 2^32 float32 bit patterns: the device codes (kernels/cast_sweep_kernel.cu) are copied
// back slice by slice and compared with the host cast on all cores. The kernel also counts
// where the quantize kernel's pair cast (kernels/e4m3fn_pair_cast.cuh: the hardware cvt on
// sm_89+, the shared cast below) differs from the shared cast: any difference fails, since
// the converter's codes on this card come from that cast.
#include <algorithm>
#include <cstdio>
#include <thread>

#include "backends/cuda/cuda_resources.hpp"
#include "core/cpu_count.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/thread_start.hpp"
#include "kernels/cast_sweep_kernel.cuh"
#include "kernels/cuda_check.hpp"
#include "selftest/cuda/device_checks.hpp"
#include "selftest/selftest_check.hpp"

namespace qfp8::selftest {
namespace {

constexpr uint64_t kSliceSize = uint64_t{1} << 26;  // 64 MiB of codes per round trip
constexpr uint64_t kAllFloats = uint64_t{1} << 32;

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

SelftestCheck kernel_cast_report(const HardwareTally& tally) {
  SelftestCheck check;
  check.name = "kernel cast";
  const char* path = tally.hardware_cvt != 0 ? "hardware cvt.rn.satfinite.e4m3x2.f32 (sm_89+)"
                                             : "shared software cast (below sm_89)";
  char line[200];
  std::snprintf(line, sizeof line,
                "the quantize kernel's cast, %s, vs the shared cast for all 4294967296 "
                "float32 in both lanes: %llu mismatches",
                path, tally.mismatches);
  check.passed = tally.mismatches == 0;
  check.summary = line;
  for (unsigned k = 0; k < std::min(tally.recorded, kCastSweepRecorded); ++k) {
    std::snprintf(line, sizeof line, "float 0x%08X: kernel 0x%02X, shared 0x%02X", tally.bits[k],
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
    launch_cast_slice(first, kSliceSize, device_codes.get(), tally);
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
  return {shared, kernel_cast_report(host_tally)};
}

}  // namespace qfp8::selftest
