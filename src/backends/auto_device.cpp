// auto_device.cpp — --device auto's choice between a usable GPU and the CPU (auto_device.hpp).
#include "backends/auto_device.hpp"

#include <fmt/core.h>

namespace qfp8 {

AutoDeviceChoice choose_auto_device(unsigned cpu_threads, uint64_t model_bytes,
                                    const AutoDeviceCosts& costs) {
  const unsigned threads = cpu_threads == 0 ? 1 : cpu_threads;
  const double cpu_rate = threads * costs.cpu_bytes_per_second_per_thread;
  const std::string rate = fmt::format("{} thread(s) cast about {:.1f} GB/s", threads,
                                       cpu_rate / 1e9);
  if (cpu_rate >= costs.disk_bound_input_bytes_per_second) {
    return {false, fmt::format("{}, as fast as a disk takes the output; the GPU would add its "
                               "start (about {:.1f} s) and about 450 MiB of memory",
                               rate, costs.cuda_start_seconds)};
  }
  if (model_bytes == 0) return {true, rate + ", slower than the GPU path"};
  const double gb = static_cast<double>(model_bytes) / 1e9;
  // Both paths overlap the cast with the writing: the CPU's extra time is what its cast
  // takes beyond the disk-bound floor, the GPU's is its start.
  const double bytes = static_cast<double>(model_bytes);
  const double cpu_extra = bytes / cpu_rate - bytes / costs.disk_bound_input_bytes_per_second;
  if (cpu_extra <= costs.cuda_start_seconds) {
    return {false, fmt::format("{}: a {:.2f} GB model costs them about {:.2f} s more than the "
                               "disk, less than the GPU's start (about {:.1f} s)",
                               rate, gb, cpu_extra, costs.cuda_start_seconds)};
  }
  return {true, fmt::format("{}: a {:.2f} GB model costs them about {:.1f} s more than the "
                            "disk, more than the GPU's start (about {:.1f} s)",
                            rate, gb, cpu_extra, costs.cuda_start_seconds)};
}

}  // namespace qfp8
