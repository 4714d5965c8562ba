// cpu_backend_options.hpp — the CPU backend's tuning knobs, exposed so tests can force the
// table or the direct path and small output chunks; make_cpu_backend() uses the defaults.
#pragma once

#include <cstdint>
#include <memory>

#include "backends/backend.hpp"
#include "core/thread_start.hpp"

namespace qfp8 {

struct CpuBackendOptions {
  unsigned threads = 0;  // 0 = the CPUs this process may use (default_thread_count())
  // Largest piece handed to QuantizedConsumer::tensor_bytes (and the output buffer size).
  uint64_t max_chunk_bytes = uint64_t{64} << 20;
  // BF16/F16 tensors with more elements than this go through the per-tensor code table;
  // filling it costs up to 32768 direct casts, so smaller tensors are cast directly.
  uint64_t table_min_numel = 32768;
  // Creates the worker threads; empty = std::thread. Tests make it fail like a PID limit.
  ThreadStarter thread_starter;
};

std::unique_ptr<QuantizeBackend> make_cpu_backend(const CpuBackendOptions& options);

}  // namespace qfp8
