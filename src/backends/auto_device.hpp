// auto_device.hpp — what --device auto prefers when a GPU is usable: the CPU path or the CUDA
// path, from what is known before either starts (the CPU threads and the model's size), with
// the reason in words for the log.
#pragma once

#include <cstdint>
#include <string>

namespace qfp8 {

struct AutoDeviceChoice {
  bool cuda = false;
  std::string why;  // one clause for the log: "16 threads cast about 19 GB/s, ..."
};

/// The figures the choice rests on, measured on the NVIDIA H200 host of
/// docs/benchmarks.md#h200-full-model; the defaults are those.
struct AutoDeviceCosts {
  double cpu_bytes_per_second_per_thread = 1.2e9;  // BF16 input cast by one CPU thread
  double cuda_start_seconds = 0.4;                 // context and pinned staging, 12 MB model
  // The input rate at which the output's writing becomes the limit for either path: 6 GB/s
  // of BF16 input is 3 GB/s of FP8 written, a fast NVMe drive's sustained write.
  double disk_bound_input_bytes_per_second = 6e9;
};

/// The CPU when its `cpu_threads` cast at least as fast as the disk can take the output
/// (both paths then wait for the disk, and the GPU only adds its start and ~450 MiB of
/// memory), or when the model (`model_bytes`, 0 if unknown) is small enough that the GPU's
/// start costs more than it saves; else CUDA.
AutoDeviceChoice choose_auto_device(unsigned cpu_threads, uint64_t model_bytes,
                                    const AutoDeviceCosts& costs = {});

}  // namespace qfp8
